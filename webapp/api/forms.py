"""API token forms: shape checks only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField("Token name (what will use it)", validators=[DataRequired(), Length(max=80)])
    submit = SubmitField("Create token")
