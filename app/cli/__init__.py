"""Commands for `flask --app app ...`."""


def register_cli(app) -> None:
    from app.cli import askue, askue_data, billing, billing_exchange, bpmn, demo, disclosure, staff  # noqa: F401  (*_data, *_exchange add commands)

    app.cli.add_command(staff.staff)
    app.cli.add_command(demo.seed_demo)
    app.cli.add_command(billing.billing)
    app.cli.add_command(bpmn.bpmn)
    app.cli.add_command(askue.askue)
    app.cli.add_command(disclosure.disclosure)
