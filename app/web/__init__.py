"""The web layer: HTML pages, the JSON API and the health check, one package per area."""
from flask import Flask


def register_web(app: Flask) -> None:
    from app.web import errors, health, nav
    from app.web.admin import bp as admin_bp
    from app.web.api import init_api
    from app.web.auth import bp as auth_bp
    from app.web.calculators import bp as calculators_bp
    from app.web.cases import bp as cases_bp
    from app.web.disclosure import bp as disclosure_bp
    from app.web.payments import bp as payments_bp
    from app.web.processes import bp as processes_bp
    from app.web.tasks import bp as tasks_bp
    from app.web.cabinet import bp as cabinet_bp
    from app.web.profile import bp as profile_bp
    from app.web.public import bp as public_bp
    from app.web.staff import bp as staff_bp

    for bp in (public_bp, auth_bp, cabinet_bp, payments_bp, cases_bp, tasks_bp, profile_bp, staff_bp, admin_bp, calculators_bp,
               disclosure_bp, processes_bp, health.bp):
        app.register_blueprint(bp)
    init_api(app)
    errors.init_app(app)
    nav.init_app(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        return response
