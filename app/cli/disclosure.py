"""`flask --app app disclosure ...`: the information-disclosure taxonomy and its deadlines."""
import click


@click.group(help="Information disclosure: the taxonomy, deadlines and reminders.")
def disclosure():
    pass


@disclosure.command("seed", help="Add the standards, categories and items of the seed that are missing "
                                 "(never overwrites an administrator's edits).")
def seed():
    from app.services import disclosure as service

    added = service.seed_taxonomy()
    click.echo(f"standards +{added['standards']}, categories +{added['categories']}, items +{added['items']}")


_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _today(value):
    from app.services.periods import local_today

    return value.date() if value else local_today()


@disclosure.command("status", help="What each category owes now: its state, period and due date.")
@click.option("--today", type=_DAY, help="Look as on this day (YYYY-MM-DD) instead of today.")
def status(today):
    from app.services import disclosure_compliance as compliance

    rows = compliance.status(_today(today))
    width = max((len(f"{r.standard.code}/{r.category.code}") for r in rows), default=10)
    click.echo(f"{'category':<{width}}  {'state':<9}  {'period':<7}  {'due':<10}  days  missing")
    for r in rows:
        click.echo(f"{r.standard.code + '/' + r.category.code:<{width}}  {r.state:<9}  "
                   f"{r.period.code if r.period else '—':<7}  {r.due.isoformat() if r.due else '—':<10}  "
                   f"{'' if r.days_left is None else r.days_left:>4}  {', '.join(i.code for i in r.missing)}")
    counts = compliance.counts(rows)
    click.echo(", ".join(f"{state} {counts[state]}" for state in compliance.STATES))


@disclosure.command("remind", help="Write to the people responsible for categories due soon or overdue "
                                   "(each category, period and kind once).")
@click.option("--today", type=_DAY, help="Act as on this day (YYYY-MM-DD) instead of today.")
def remind(today):
    from app.services import disclosure_compliance as compliance

    click.echo(f"letters sent: {compliance.send_reminders(_today(today))}")
