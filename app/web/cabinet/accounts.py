"""The customer's accounts: the dashboard, linking a new account, representatives."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from app import policy
from app.policy import require
from app.services import accounts, statements
from app.services.errors import ServiceError
from app.services.resources import RESOURCES
from app.web.cabinet import bp
from app.web.forms import Form, show_error


class LinkAccountForm(Form):
    number = StringField(_l("Account number"), validators=[DataRequired(_l("Enter the account number.")),
                                                            Length(max=30)],
                         description=_l("Printed at the top of your bill."),
                         render_kw={"inputmode": "numeric", "autocomplete": "off"})
    code = StringField(_l("Verification code"), validators=[DataRequired(_l("Enter the verification code.")),
                                                             Length(max=20)],
                       description=_l("The code next to the account number on the paper bill."),
                       render_kw={"autocomplete": "off"})


class RepresentativeForm(Form):
    email = EmailField(_l("Representative's e-mail"),
                       validators=[DataRequired(_l("Enter the e-mail.")), Length(max=254)],
                       description=_l("They must already be registered in the portal."))


class ConfirmForm(Form):
    """A form with only the CSRF token, for buttons that change something."""


@bp.route("/", methods=["GET"])
@require("cabinet.use")
def dashboard():
    cards = statements.dashboard(current_user)
    return render_template("cabinet/dashboard.html", cards=cards, form=None if cards else LinkAccountForm(),
                           resources=RESOURCES)


@bp.route("/accounts/link", methods=["GET", "POST"])
@require("cabinet.use")
def link():
    form = LinkAccountForm()
    if form.validate_on_submit():
        try:
            account = accounts.link(current_user, form.number.data, form.code.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("Account %(number)s is added.", number=account.number), "success")
            return redirect(url_for("cabinet.account", account_id=account.id))
    return render_template("cabinet/link.html", form=form)


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
@require("cabinet.use")
def account(account_id):
    account = accounts.get_for(current_user, account_id)
    form = RepresentativeForm()
    if form.validate_on_submit():
        try:
            accounts.add_representative(current_user, account.id, form.email.data)
        except ServiceError as error:
            show_error(form, error)
        else:
            flash(_("The representative is added."), "success")
            return redirect(url_for("cabinet.account", account_id=account.id))
    return render_template("cabinet/account.html", account=account, form=form, remove_form=ConfirmForm(),
                           is_owner=policy.can_manage_account(current_user, account),
                           window=policy.account_window(current_user, account),
                           current=policy.can_act_on_account(current_user, account))


@bp.post("/accounts/<int:account_id>/representatives/<int:user_id>/remove")
@require("cabinet.use")
def remove_representative(account_id, user_id):
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.remove_representative(current_user, account_id, user_id)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("The representative no longer sees the account."), "success")
    return redirect(url_for("cabinet.account", account_id=account_id))
