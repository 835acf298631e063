"""Skill forms: shape checks only; the services check skills, levels and permissions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.services.skills.pages import LevelInfo, SkillInfo


class AssessmentForm(FlaskForm):
    """A level for one skill; used for self-assessments and manager assessments."""

    skill = SelectField("Skill", coerce=int, validators=[DataRequired("Choose a skill.")])
    level = RadioField("Level", coerce=int, validators=[InputRequired("Choose a level.")])
    note = TextAreaField(
        "Note (optional): what shows this level", validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField("Record assessment")

    def fill(self, skills: list[SkillInfo], levels: list[LevelInfo]) -> AssessmentForm:
        self.skill.choices = [(0, "Choose a skill…")] + [
            (s.id, f"{s.category} · {s.name}") for s in skills
        ]
        # The scale comes from the taxonomy sync; before it ran, offer the bare 1-5 scale.
        named = {lv.level: f"{lv.level} · {lv.name}" for lv in levels}
        self.level.choices = [(n, named.get(n, str(n))) for n in range(1, 6)]
        return self


class TargetProfileForm(FlaskForm):
    profile = SelectField("Target role profile", coerce=int)
    submit = SubmitField("Use this profile")

    def fill(self, profiles: list[tuple[int, str]]) -> TargetProfileForm:
        self.profile.choices = [(0, "No target profile")] + list(profiles)
        return self
