"""The navigation bar: each item names the permission it needs, so a role sees only its own pages."""
from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import policy

ITEMS = [
    ("cabinet.dashboard", _l("My accounts"), "cabinet.use"),
    ("cases.my_cases", _l("Applications"), "cabinet.use"),
    ("tasks.queue", _l("Tasks"), "tasks.work"),
    ("calculators.penalty", _l("Calculators"), None),
    ("staff.home", _l("Workplace"), "staff.home"),
    ("staff.accounts", _l("Accounts"), "accounts.read_any"),
    ("staff.billing_periods", _l("Billing"), "billing.manage"),
    ("processes.index", _l("Processes"), "processes.edit"),
    ("staff.connection_rates", _l("Connection rates"), "rates.manage"),
    ("staff.payments_page", _l("Payments"), "billing.manage"),
    ("staff.askue", _l("ASKUE"), "askue.operate"),
    ("staff.disclosure_compliance", _l("Disclosure"), "disclosure.publish"),
    ("admin.users", _l("Users"), "users.manage"),
    ("admin.audit", _l("Audit log"), "audit.read"),
    ("admin.incidents", _l("Incidents"), "audit.read"),
]


def init_app(app) -> None:
    @app.context_processor
    def _nav():
        if not has_request_context():  # letters rendered by Celery or the CLI have no navigation
            return {}
        items = [(endpoint, label, request.endpoint == endpoint) for endpoint, label, permission in ITEMS
                 if permission is None or policy.has_permission(current_user, permission)]
        return {"nav_items": items, "policy": policy}
