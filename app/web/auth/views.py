"""Registration, e-mail confirmation, login, logout and password reset."""
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app import policy
from app.services import audit, users
from app.services.audit import client_ip
from app.services.errors import InvalidInput, ServiceError
from app.web.auth.forms import EmailForm, LoginForm, NewPasswordForm, RegisterForm
from app.web.forms import safe_next, show_error

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _fresh_session() -> None:
    """Start a new session that keeps only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _home_for(user) -> str:
    return url_for("staff.home" if policy.is_staff(user) else "cabinet.dashboard")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = users.register_customer(form.email.data, form.password.data, form.full_name.data,
                                           form.phone.data, locale=session.get("lang"))
        except ServiceError as error:
            show_error(form, error)
        else:
            return render_template("auth/check_email.html", email=user.email)
    return render_template("auth/register.html", form=form)


@bp.get("/confirm/<token>")
def confirm(token):
    try:
        users.confirm_email(token)
    except ServiceError as error:
        flash(str(error.message), "warning" if error.status == 409 else "danger")
        return redirect(url_for("auth.login" if error.status == 409 else "auth.resend"))
    flash(_("Your e-mail is confirmed. You can log in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/resend", methods=["GET", "POST"])
def resend():
    form = EmailForm()
    if form.validate_on_submit():
        users.resend_confirmation(form.email.data)
        return render_template("auth/check_email.html", email=form.email.data.strip())
    return render_template("auth/resend.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    unconfirmed = False
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.email.data, form.password.data, client_ip())
        except ServiceError as error:
            flash(str(error.message), "danger")
            unconfirmed = error.details.get("reason") == "unconfirmed"
        else:
            _fresh_session()  # no session fixation across the login
            login_user(user)
            return redirect(safe_next(request.args.get("next"), _home_for(user)))
    return render_template("auth/login.html", form=form, unconfirmed=unconfirmed)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        audit.record("auth.logout", obj=current_user._get_current_object())
        from app.extensions import db

        db.session.commit()
    logout_user()
    _fresh_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = EmailForm()
    if form.validate_on_submit():
        users.request_password_reset(form.email.data)
        return render_template("auth/reset_sent.html", email=form.email.data.strip())
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            users.reset_password(token, form.password.data)
        except InvalidInput as error:
            if error.field:
                show_error(form, error)
            else:
                flash(str(error.message), "danger")
                return redirect(url_for("auth.reset_request"))
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Your password is set. Log in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)
