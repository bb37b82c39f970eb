"""`flask --app app askue poll|import|export|silent`: the ASKUE data commands. The rules live in
app.services.askue_polling and askue_exchange; this only moves bytes and prints."""
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.cli.askue import askue
from app.extensions import db
from app.models import AskueSource
from app.services import askue_exchange, askue_polling


@askue.command("poll", help="Poll ASKUE sources now: those named by --source, else all enabled ones.")
@click.option("--source", "codes", multiple=True, help="A source's code; may be given several times.")
@with_appcontext
def poll(codes):
    query = select(AskueSource).where(AskueSource.enabled).order_by(AskueSource.id)
    if codes:
        query = select(AskueSource).where(AskueSource.code.in_(codes))
    sources = list(db.session.scalars(query))
    missing = set(codes) - {s.code for s in sources}
    if missing:
        raise click.BadParameter(f"no such source: {', '.join(sorted(missing))}", param_hint="--source")
    failed = False
    for source in sources:
        try:
            result = askue_polling.poll_source(source.id)
        except Exception as error:  # one source failing does not stop the others
            failed = True
            click.echo(f"{source.code}: failed: {error}", err=True)
            continue
        click.echo(f"{result.source}: {result.meters_read} meter(s) read, {result.meters_failed} failed, "
                   f"{result.meters_skipped} waiting; {result.pages} page(s); {result.values_new} new value(s), "
                   f"{result.values_repeated} repeated; {result.events} event(s)")
        for error in result.errors:
            click.echo(f"  {error}", err=True)
    raise SystemExit(1 if failed else 0)


@askue.command("import", help="Apply 80020 XML or CSV files of interval values. Each file is applied "
                              "whole or not at all; the exit code is non-zero if any was refused.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_files(files):
    refused = 0
    for path in files:
        result = askue_exchange.import_file(path.read_bytes(), path.name)
        record = result.file
        if result.already_applied:
            click.echo(f"{path.name}: applied before ({record.created_at:%Y-%m-%d %H:%M}), nothing to do")
        elif result.applied:
            click.echo(f"{path.name}: {record.values_new} new value(s), {record.values_repeated} already stored")
        else:
            refused += 1
            click.echo(f"refused: {record.error}", err=True)
    raise SystemExit(2 if refused else 0)


@askue.command("export", help="Write a local day's stored values as an 80020 (default) or CSV file.")
@click.option("--day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD, local time.")
@click.option("--format", "kind", type=click.Choice(["80020", "csv"]), default="80020", show_default=True)
@click.option("--number", type=int, default=1, show_default=True, help="The 80020 message number.")
@click.option("--point", "codes", multiple=True, help="Only these measuring points.")
@click.option("--out", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@with_appcontext
def export(day, kind, number, codes, directory):
    name, content = askue_exchange.export_day(day.date(), kind, number, list(codes) or None)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(content)
    click.echo(str(directory / name))


@askue.command("silent", help="List meters not heard from for more than --hours.")
@click.option("--hours", type=int, default=24, show_default=True)
@with_appcontext
def silent(hours):
    for point in askue_polling.silent_points(hours):
        seen = f"{point.last_seen_at:%Y-%m-%d %H:%M}" if point.last_seen_at else "never"
        click.echo(f"{point.code}\t{point.meter.serial}\tlast seen {seen}\t{point.last_error or ''}")
