"""The JSON API under /api/v1, documented at /api/v1/openapi.json.

Requests authenticate with the session cookie (pages and htmx; unsafe methods then need the
X-CSRFToken header) or with a personal access token (`Authorization: Bearer gc_...`, no CSRF: a
token is not sent by the browser on its own). Errors are application/problem+json.
"""
import marshmallow as ma
from flask import abort, g, request
from flask_login import current_user
from flask_smorest import Api

from app.extensions import csrf

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Open to anyone: they read public rules and change nothing.
PUBLIC_PREFIXES = ("/api/v1/calculators/",)


class ProblemSchema(ma.Schema):
    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class GridCaseApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        # app.web.errors answers for the whole app, problem+json under /api/.
        pass


def init_api(app) -> None:
    from app.web.api import accounts, billing, calculators, cases, consumption, me, tokens

    api = GridCaseApi(spec_kwargs={
        "info": {"description": "GridCase: customer portal and case management of an energy company."},
        "servers": [{"url": "/"}],
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme("cookieAuth", {"type": "apiKey", "in": "cookie", "name": "session"})
    api.spec.options["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
    for blp in (me.blp, accounts.blp, billing.blp, consumption.blp, cases.blp, tokens.blp, calculators.blp):
        csrf.exempt(blp)
        api.register_blueprint(blp)
    app.before_request(_guard)
    app.extensions["gridcase_api"] = api


def _guard():
    """Every API call but the OpenAPI document is authenticated; session-authenticated writes also
    carry the CSRF token."""
    if not request.path.startswith("/api/") or request.path == "/api/v1/openapi.json":
        return
    if request.path.startswith(PUBLIC_PREFIXES):
        return
    if not current_user.is_authenticated:
        from app.services import audit

        audit.record("api.unauthenticated", outcome="denied", commit=True,
                     details={"bearer": request.headers.get("Authorization", "").startswith("Bearer ")})
        abort(401)
    if request.method in UNSAFE and g.get("auth_method") != "token":
        csrf.protect()
