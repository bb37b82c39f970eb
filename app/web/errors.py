"""Errors as the client expects them: an HTML page for browsers, application/problem+json for the API."""
from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services import audit
from app.services.errors import ServiceError

TITLES = {
    400: lambda: _("Bad request"),
    401: lambda: _("Log in to continue"),
    403: lambda: _("Access denied"),
    404: lambda: _("Not found"),
    405: lambda: _("Method not allowed"),
    409: lambda: _("Conflict"),
    413: lambda: _("The file is too large"),
    422: lambda: _("Check the data"),
    429: lambda: _("Too many attempts"),
    500: lambda: _("Something went wrong on our side"),
    503: lambda: _("Service unavailable"),
}
DETAILS = {
    401: lambda: _("Log in, or send a personal access token in the Authorization header."),
    403: lambda: _("You do not have the rights for this."),
    404: lambda: _("There is no such page, or it is not available to you."),
    500: lambda: _("We have been notified. Please try again later."),
}


def wants_problem() -> bool:
    """The API, and pages' own JSON calls (a JSON body, or JSON asked for first), get problem+json."""
    return (request.path.startswith("/api/") or request.is_json
            or request.accept_mimetypes.best == "application/json")


def problem(status: int, detail: str | None = None, code: str | None = None, **extra):
    body = {
        "type": f"urn:gridcase:problem:{code}" if code else "about:blank",
        "title": TITLES.get(status, lambda: _("Error"))(),
        "status": status,
        "detail": detail or (DETAILS[status]() if status in DETAILS else None),
        "instance": request.path,
        **extra,
    }
    response = jsonify({k: v for k, v in body.items() if v is not None})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def page(status: int, detail: str | None = None):
    title = TITLES.get(status, lambda: _("Error"))()
    detail = detail or (DETAILS[status]() if status in DETAILS else "")
    return render_template("errors/error.html", status=status, title=title, detail=detail), status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        audit.record("security.csrf", outcome="refused", details={"reason": error.description}, commit=True)
        detail = _("The form has expired or was sent from elsewhere. Reload the page and try again.")
        return problem(400, detail, "csrf") if wants_problem() else page(400, detail)

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        if wants_problem():
            # What the error carries besides its message (a conflict's current revision, a diagram's
            # problems) goes along for the caller to show.
            extra = {k: v for k, v in error.details.items() if k not in ("type", "title", "status", "detail")}
            if error.field:
                extra["errors"] = {error.field: [str(error.message)]}
            return problem(error.status, str(error.message), error.code, **extra)
        return page(error.status, str(error.message))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if wants_problem():
            extra = {}
            # webargs puts field messages here when a request body does not match its schema
            messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
            if messages:
                extra["errors"] = {k: v for loc in messages.values() for k, v in loc.items()}
            detail = DETAILS[status]() if status in DETAILS else None
            if status == 422 and messages:
                detail = _("Some fields are missing or wrong; see errors.")
            return problem(status, detail, **extra)
        if status == 401:
            from app.extensions import login_manager

            return login_manager.unauthorized()
        return page(status)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return problem(500) if wants_problem() else page(500)
