"""How a request is tied to a user: the session cookie for pages, also a bearer token for the API.

The session carries "<id>:<auth stamp>"; a password change or a block rotates the stamp, so every
other session of that user ends at once.
"""
from flask import g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.extensions import db, login_manager
from app.models import User


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _, stamp = session_id.partition(":")
        if not user_id.isdigit():
            return None
        # Roles come in the same query: every request checks them.
        user = db.session.get(User, int(user_id), options=[joinedload(User.role_rows)])
        if user is None or user.auth_stamp != stamp or user.is_blocked:
            return None
        g.auth_method = "session"
        return user

    @login_manager.request_loader
    def load_user_from_token(req):
        header = req.headers.get("Authorization", "")
        if not req.path.startswith("/api/") or not header.startswith("Bearer "):
            return None
        from app.services import api_tokens

        user = api_tokens.user_for(header[len("Bearer "):].strip())
        if user is not None:
            g.auth_method = "token"
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import abort, flash, redirect, url_for

        if request.path.startswith("/api/"):
            abort(401)
        flash(login_manager.login_message, "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
