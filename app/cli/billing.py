"""`flask --app app billing ...`: the monthly close and the exchange with an external billing system."""
import click
from flask.cli import with_appcontext

from app.services import billing as close_service
from app.services.periods import parse_period


@click.group(help="Billing: monthly close, import and export.")
def billing():
    pass


@billing.command("close", help="Close a billing period (YYYY-MM) for every account; safe to run again.")
@click.argument("period")
@click.option("--batch", default=500, show_default=True, help="Accounts per transaction.")
@with_appcontext
def close(period, batch):
    try:
        month = parse_period(period)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="PERIOD") from None
    result = close_service.close_period(month, batch_size=batch)
    click.echo(f"period {month:%Y-%m}: closed {result.closed}, already closed {result.skipped}, "
               f"lines {result.lines}, charged {result.charged}")
    for account_id, reason in sorted(result.problems.items()):
        click.echo(f"  account {account_id}: {reason}", err=True)
    if result.problems:
        raise SystemExit(1)
