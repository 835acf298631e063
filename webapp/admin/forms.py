"""Admin forms: shape checks only."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from webapp.models import Role


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])
    team = StringField("Team (created if new)", validators=[Optional(), Length(max=120)])
    password = PasswordField(
        "Initial password", validators=[DataRequired(), Length(min=12, max=512)]
    )
    submit = SubmitField("Create user")


class RosterForm(FlaskForm):
    roster = FileField(
        "Roster CSV (columns: email, name, team, role)",
        validators=[FileRequired(), FileAllowed(["csv"], "Upload a .csv file.")],
    )
    submit = SubmitField("Check the file")


class EditUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=[SelectChoice(r.value, r.value.title()) for r in Role])
    submit = SubmitField("Save changes")


class MembershipForm(FlaskForm):
    team = StringField("Team (created if new)", validators=[DataRequired(), Length(max=120)])
    as_manager = BooleanField("As a manager of the team")
    submit = SubmitField("Add to the team")
