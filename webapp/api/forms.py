"""API token forms: shape checks only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.services.people.api_tokens import LIFETIMES_DAYS, SCOPES


class TokenForm(FlaskForm):
    name = StringField("Token name (what will use it)", validators=[DataRequired(), Length(max=80)])
    scopes = SelectMultipleField(
        "What it may read",
        choices=[SelectChoice(k, v) for k, v in SCOPES.items()],
        default=list(SCOPES),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired("Choose at least one thing the token may read.")],
    )
    days = SelectField(
        "Works for",
        choices=[SelectChoice(str(d), f"{d} days") for d in LIFETIMES_DAYS],
        default="90",
        coerce=int,
    )
    submit = SubmitField("Create token")
