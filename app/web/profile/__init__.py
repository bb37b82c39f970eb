"""The user's own profile: name, language, password and API tokens. Every role has it."""
from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from wtforms import IntegerField, PasswordField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from app.services import api_tokens, users
from app.services.errors import ServiceError
from app.web.forms import Form, show_error

bp = Blueprint("profile", __name__, url_prefix="/profile")


class ProfileForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your full name.")),
                                                         Length(max=200)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=20)])
    locale = SelectField(_l("Language"), choices=[SelectChoice("ru", "Русский"), SelectChoice("en", "English")])


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password."))],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a password."))],
                                 description=_l("At least 10 characters, letters and digits. "
                                                "You will be logged out on your other devices."),
                                 render_kw={"autocomplete": "new-password"})
    new_password2 = PasswordField(_l("Repeat the password"),
                                  validators=[DataRequired(_l("Repeat the password.")),
                                              EqualTo("new_password", _l("The passwords do not match."))],
                                  render_kw={"autocomplete": "new-password"})


class TokenForm(Form):
    name = StringField(_l("Token name"), validators=[DataRequired(_l("Name the token.")), Length(max=100)],
                       description=_l("Where it is used, e.g. 'home automation'."))
    days = IntegerField(_l("Valid for, days"), default=365,
                        validators=[DataRequired(_l("Enter the number of days.")),
                                    NumberRange(1, 3650, _l("From 1 to 3650 days."))])


class ConfirmForm(Form):
    pass


def _page(**forms):
    forms.setdefault("profile_form", ProfileForm(obj=current_user))
    forms.setdefault("password_form", PasswordForm())
    forms.setdefault("token_form", TokenForm())
    return render_template("profile/profile.html", tokens=api_tokens.active(current_user),
                           revoke_form=ConfirmForm(), **forms)


@bp.get("/")
@login_required
def show():
    return _page()


@bp.post("/")
@login_required
def update():
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            users.update_profile(current_user, form.full_name.data, form.phone.data, form.locale.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            session["lang"] = form.locale.data
            flash(_("The profile is saved."), "success")
            return redirect(url_for("profile.show"))
    return _page(profile_form=form)


@bp.post("/password")
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            users.change_password(current_user, form.current_password.data, form.new_password.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            # This session stays: log in again with the new stamp; all others have ended.
            login_user(current_user._get_current_object())
            flash(_("The password is changed. Your other sessions have ended."), "success")
            return redirect(url_for("profile.show"))
    return _page(password_form=form)


@bp.post("/tokens")
@login_required
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _row, token = api_tokens.create(current_user, form.name.data, form.days.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            return _page(new_token=token)
    return _page(token_form=form)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id):
    if ConfirmForm().validate_on_submit():
        try:
            api_tokens.revoke(current_user, token_id)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("The token is revoked."), "success")
    return redirect(url_for("profile.show"))
