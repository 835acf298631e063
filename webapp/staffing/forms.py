"""Staffing forms: shape checks only; the services check the rules that need the database."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from webapp.models import ProjectStatus

LEVELS = [SelectChoice(str(i), str(i)) for i in range(1, 6)]


def choices(pairs: list[tuple[int, str]]) -> list[SelectChoice]:
    """Select options from (id, label) pairs, as WTForms 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


class ProjectForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=160)])
    team_id = SelectField("Team", coerce=int)
    start_date = DateField("Start date", validators=[DataRequired()])
    status = SelectField(
        "Status", choices=[SelectChoice(s.value, s.value.title()) for s in ProjectStatus]
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    submit = SubmitField("Save project")


class RequirementForm(FlaskForm):
    skill_id = SelectField("Skill", coerce=int)
    min_level = IntegerField("Minimum level (1–5)", validators=[InputRequired(), NumberRange(1, 5)])
    headcount = IntegerField(
        "People needed", default=1, validators=[InputRequired(), NumberRange(1, 100)]
    )
    importance = IntegerField(
        "Importance (1–5)", default=3, validators=[InputRequired(), NumberRange(1, 5)]
    )
    allocation_pct = IntegerField(
        "Share of their time (%)", default=100, validators=[InputRequired(), NumberRange(1, 100)]
    )
    submit = SubmitField("Save requirement")


class AssignmentForm(FlaskForm):
    user_id = SelectField("Person", coerce=int)
    allocation_pct = IntegerField(
        "Share of their time (%)", default=100, validators=[InputRequired(), NumberRange(1, 100)]
    )
    submit = SubmitField("Assign")


class ImportForm(FlaskForm):
    kind = SelectField(
        "What the file holds",
        choices=[
            SelectChoice("projects", "Projects (name, team, start_date, status, description)"),
            SelectChoice(
                "requirements",
                "Requirements (project, skill, min_level, headcount, importance, allocation_pct)",
            ),
            SelectChoice("assignments", "Assignments (project, email, allocation_pct)"),
            SelectChoice("profiles", "Role profiles (profile, skill, level)"),
        ],
    )
    file = FileField(
        "CSV file", validators=[FileRequired(), FileAllowed(["csv"], "Upload a .csv file.")]
    )
    submit = SubmitField("Check the file")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=4000)])
    submit = SubmitField("Save profile")


class TargetForm(FlaskForm):
    skill_id = SelectField("Skill", coerce=int)
    level = SelectField(
        "Target level", choices=[SelectChoice("0", "Remove from profile"), *LEVELS], default="3"
    )
    submit = SubmitField("Set target")


class PlanRequestForm(FlaskForm):
    verified_only = BooleanField("Plan on verified levels only (ignore claimed levels)")
    submit = SubmitField("Compute the plan")


class CapacityForm(FlaskForm):
    """A person's capacity as typed; the service parses it and says what is wrong."""

    availability = StringField(
        "Availability for projects (% of their time)", validators=[Length(max=10)]
    )
    hours_per_week = StringField(
        "Learning hours per week (empty: the organisation's default)",
        validators=[Length(max=10)],
    )
    holidays = TextAreaField(
        "Holidays and other unavailable days (one range per line: 2027-04-01 to 2027-04-09)",
        validators=[Length(max=4000)],
    )
    submit = SubmitField("Save capacity")
