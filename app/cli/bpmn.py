"""`flask --app app bpmn ...`: deploy the diagrams in bpmn/ as process definitions."""
import click
from flask.cli import with_appcontext

from workflows import definitions


@click.group(help="BPMN process definitions.")
def bpmn():
    pass


@bpmn.command("deploy", help="Deploy every bpmn/*.bpmn that changed (or the given files) as a new version.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def deploy(files):
    from pathlib import Path

    paths = [Path(f) for f in files] or sorted(definitions.BPMN_FOLDER.glob("*.bpmn"))
    failed = False
    for path in paths:
        try:
            row, created = definitions.deploy(path.read_bytes(), source=f"bpmn/{path.name}")
        except definitions.DefinitionError as error:
            failed = True
            click.echo(f"{path.name}: refused", err=True)
            for element, reason in error.problems:
                click.echo(f"  {element}: {reason}", err=True)
            continue
        click.echo(f"{path.name}: {row.key} v{row.version} {'deployed' if created else 'unchanged'}")
    if failed:
        raise SystemExit(1)


@bpmn.command("fire-timers", help="Wake the cases whose timers are due (the scheduler does this every minute).")
@with_appcontext
def fire_timers():
    from workflows import engine

    click.echo(f"cases woken: {engine.fire_due_timers()}")
