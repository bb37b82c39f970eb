"""`flask --app app billing import|export-readings|export-payments`: files exchanged with the external
billing system. The rules live in app.services.billing_exchange; this only moves bytes and prints."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.billing import billing
from app.services import billing_exchange as exchange
from app.services.periods import parse_period

FORMAT = click.Choice(exchange.FORMATS)
OUTPUT = click.Path(dir_okay=False, writable=True, path_type=Path)


@billing.command("import", help="Import KIND (accounts, meters or balances) from a CSV or XLSX FILE. "
                                "Any bad row stops the whole file unless --skip-errors is given.")
@click.argument("kind", type=click.Choice(tuple(exchange.KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-errors", is_flag=True, help="Apply the valid rows and list the skipped ones.")
@with_appcontext
def import_file(kind, file, skip_errors):
    report = exchange.import_file(kind, file.name, file.read_bytes(), skip_errors=skip_errors, actor_label="cli")
    for message in report.messages():
        click.echo(f"  {message}", err=True)
    if report.applied_ok:
        click.echo(f"{kind} from {file.name}: {report.applied} of {report.total} row(s) applied"
                   + (f", {len(report.skipped)} skipped" if report.skipped else ""))
        return
    click.echo(f"{kind} from {file.name}: nothing applied ("
               + (f"{len(report.skipped)} of {report.total} row(s) with errors" if report.skipped
                  else "the file cannot be read") + ")", err=True)
    raise SystemExit(1)


@billing.command("export-readings", help="Write the current readings of PERIOD (YYYY-MM) for the billing system.")
@click.argument("period")
@click.option("--format", "fmt", type=FORMAT, default="csv", show_default=True)
@click.option("--output", type=OUTPUT, help="File to write; by default the suggested name in this folder.")
@with_appcontext
def export_readings(period, fmt, output):
    try:
        month = parse_period(period)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="PERIOD") from None
    _save(*exchange.export_readings(month, fmt), output)


@billing.command("export-payments", help="Write the payments booked FROM..TO (dates, inclusive).")
@click.argument("date_from", metavar="FROM")
@click.argument("date_to", metavar="TO")
@click.option("--format", "fmt", type=FORMAT, default="csv", show_default=True)
@click.option("--output", type=OUTPUT, help="File to write; by default the suggested name in this folder.")
@with_appcontext
def export_payments(date_from, date_to, fmt, output):
    try:
        start, end = exchange.parse_date(date_from), exchange.parse_date(date_to)
        filename, content = exchange.export_payments(start, end, fmt)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    _save(filename, content, output)


def _save(filename: str, content: bytes, output: Path | None) -> None:
    path = output or Path(filename)
    path.write_bytes(content)
    click.echo(f"wrote {path} ({len(content)} bytes)")
