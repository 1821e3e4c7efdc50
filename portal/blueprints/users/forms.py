"""The programme office's invitation form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length

from portal.blueprints.fields import SelectField
from portal.blueprints.layout import ROLE_LABELS
from portal.blueprints.validators import clean_text, optional_int
from portal.extensions import db
from portal.models import Company, Provider, Role
from portal.services.accounts import Invitation


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Give an email address.")), Email(), Length(max=254)],
                       filters=[clean_text])
    name = StringField(_l("Name"), validators=[Length(max=200)], filters=[clean_text])
    role = RadioField(_l("Role"), validators=[InputRequired()], default=Role.HR.value,
                      choices=[SelectChoice(r.value, ROLE_LABELS[r.value]) for r in Role])
    company_id = SelectField(_l("Company (for HR)"), coerce=optional_int, validate_choice=False)
    provider_id = SelectField(_l("Course provider (for provider staff)"), coerce=optional_int, validate_choice=False)

    def prepare(self) -> "InviteForm":
        self.company_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(i, name) for i, name in db.session.execute(select(Company.id, Company.name).order_by(Company.name))
        ]
        self.provider_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(i, name) for i, name in db.session.execute(select(Provider.id, Provider.name).order_by(Provider.name))
        ]
        return self

    def data_for_service(self) -> Invitation:
        return Invitation(email=self.email.data or "", name=self.name.data or "", role=Role(self.role.data),
                          company_id=self.company_id.data, provider_id=self.provider_id.data)
