"""Pages without login: the start page and the language switch."""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from app import policy
from app.extensions import db
from app.web.forms import safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home" if policy.is_staff(current_user) else "cabinet.dashboard"))
    return render_template("index.html")


@bp.post("/language")
def language():
    """The language buttons in the header. CSRFProtect has checked the token before we get here."""
    lang = request.form.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("public.index")))
