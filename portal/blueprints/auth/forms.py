"""Sign-in and password forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.services.passwords import MAX_LENGTH


def _strip(value):
    return value.strip() if value else value


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)], filters=[_strip])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Remember me on this computer"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Give your email address.")), Email(), Length(max=254)],
                       filters=[_strip])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Choose a password.")),
                                                             Length(max=MAX_LENGTH)])
    confirm = PasswordField(_l("The new password again"), validators=[
        DataRequired(_l("Type the password again.")), EqualTo("password", _l("The two passwords differ."))])


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
