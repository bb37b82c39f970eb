"""Pages without login: the start page and the language switch."""
from flask import Blueprint, current_app, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from app import policy
from app.extensions import db
from app.web.forms import safe_next

bp = Blueprint("public", __name__)


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home" if policy.is_staff(current_user) else "cabinet.dashboard"))
    return render_template("index.html")


@bp.post("/language")
def language():
    form = LanguageForm()
    lang = form.lang.data if form.validate_on_submit() else None
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(form.next.data, url_for("public.index")))


@bp.app_context_processor
def _language_form():
    return {"language_form": LanguageForm}
