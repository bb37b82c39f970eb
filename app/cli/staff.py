import click
from flask.cli import with_appcontext

from app import policy
from app.services import users
from app.services.errors import ServiceError


@click.group(help="Staff accounts.")
def staff():
    pass


@staff.command("create", help="Create a staff member. Without --password they get an e-mailed link.")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(policy.STAFF_ROLES)),
              help="Role; repeat for several.")
@click.option("--group", "groups", multiple=True, help="Group code (connection, metering, billing, legal); repeatable.")
@click.option("--password", default=None, help="Set this password instead of e-mailing a link.")
@with_appcontext
def create(email, full_name, roles, groups, password):
    try:
        user = users.create_staff(email, full_name, roles, groups, password=password)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"created {user.email} ({', '.join(sorted(user.roles))})")
