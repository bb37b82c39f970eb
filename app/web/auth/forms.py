from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from app.web.forms import Form


def new_password_fields(label):
    """A new password and its repetition, as the registration and the reset forms ask for them."""
    return (
        PasswordField(label, validators=[DataRequired(_l("Enter a password."))],
                      description=_l("At least 10 characters, letters and digits."),
                      render_kw={"autocomplete": "new-password"}),
        PasswordField(_l("Repeat the password"),
                      validators=[DataRequired(_l("Repeat the password.")),
                                  EqualTo("password", _l("The passwords do not match."))],
                      render_kw={"autocomplete": "new-password"}),
    )


class RegisterForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your full name.")), Length(max=200)],
                            render_kw={"autocomplete": "name"})
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail.")), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    phone = TelField(_l("Phone"), validators=[Optional(), Regexp(r"^\+?[\d\s()-]{10,20}$",
                                                                 message=_l("Enter the phone like +7 900 123-45-67."))],
                     description=_l("Optional: for notices about your cases."),
                     render_kw={"autocomplete": "tel"})
    password, password2 = new_password_fields(_l("Password"))


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail."))],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password"})


class EmailForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter your e-mail."))],
                       render_kw={"autocomplete": "email"})


class NewPasswordForm(Form):
    password, password2 = new_password_fields(_l("New password"))
