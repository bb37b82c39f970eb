"""`flask --app app bpmn ...`: deploy the diagrams in bpmn/ as process definitions."""
import click
from flask.cli import with_appcontext

from workflows import definitions


@click.group(help="BPMN process definitions.")
def bpmn():
    pass


@bpmn.command("deploy", help="Deploy the task forms in bpmn/forms that are new or changed, then every bpmn/*.bpmn "
                             "that changed (or the given files), each as a new version.")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def deploy(files):
    from pathlib import Path

    from app.services import process_forms
    from workflows.forms import FormDefinitionError

    try:
        seeded = process_forms.seed()
    except FormDefinitionError as error:
        click.echo(f"forms: refused: {error}", err=True)
        raise SystemExit(1) from None
    for name, row, created in seeded:
        if created:
            click.echo(f"forms/{name}: {row.key} v{row.version} deployed")
    unchanged = sum(not created for _name, _row, created in seeded)
    if unchanged:
        click.echo(f"forms: {unchanged} unchanged")
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


@bpmn.command("export", help="Write a deployed version (the latest by default) back to a file, so the repository "
                             "tracks what analysts deployed in the modeler.")
@click.argument("key")
@click.option("--version", "number", type=int, help="The version; the latest when left out.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Where to write it; bpmn/<key>.bpmn when left out.")
@with_appcontext
def export(key, number, output):
    from pathlib import Path

    from app.services import processes
    from app.services.errors import NotFound

    try:
        row = processes.version(key, number) if number else processes.latest(key)
    except NotFound as error:
        raise click.ClickException(str(error.message)) from None
    path = Path(output) if output else definitions.BPMN_FOLDER / f"{key}.bpmn"
    path.write_text(row.bpmn_xml, encoding="utf-8")
    click.echo(f"{row.key} v{row.version} -> {path}")


@bpmn.command("export-form", help="Write the latest deployed version of a task form back to bpmn/forms/<key>.json "
                                  "(or --output), so the repository tracks what analysts deployed in the form editor.")
@click.argument("key")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Where to write it.")
@with_appcontext
def export_form(key, output):
    from app.services import process_forms
    from app.services.errors import NotFound

    try:
        path = process_forms.export(key, output)
    except NotFound as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"{key} v{process_forms.versions(key)[0].version} -> {path}")


@bpmn.command("fire-timers", help="Wake the cases whose timers are due (the scheduler does this every minute).")
@with_appcontext
def fire_timers():
    from workflows import engine

    click.echo(f"cases woken: {engine.fire_due_timers()}")
