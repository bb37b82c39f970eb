"""Commands for `flask --app app ...`."""


def register_cli(app) -> None:
    from app.cli import billing, demo, staff

    app.cli.add_command(staff.staff)
    app.cli.add_command(demo.seed_demo)
    app.cli.add_command(billing.billing)
