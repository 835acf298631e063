"""Learn forms: the catalog filter (a GET form, so no CSRF token), answers, uploads, reviews."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import FloatField, HiddenField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

LEVEL_CHOICES = [SelectChoice("", "Any level")] + [
    SelectChoice(str(n), f"Level {n}") for n in range(1, 6)
]


class CatalogFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search form changes nothing

    q = SearchField("Search", validators=[Optional(), Length(max=100)])
    skill = SelectField("Skill", choices=[], validate_choice=False)
    category = SelectField("Category", choices=[], validate_choice=False)
    level = SelectField("Level proved", choices=LEVEL_CHOICES, validate_choice=False)


MODES = ["check", "final"]
LOAD = "load"  # an upload's answers go into the editors (the draft); nothing is graded


class AnswersForm(FlaskForm):
    """Run tests (``check``) or Submit (``final``): the editor's answers as a JSON object."""

    answers = HiddenField(validators=[DataRequired()])
    mode = HiddenField(validators=[AnyOf(MODES)])
    # A random key per rendering of the page: the same form sent twice is one attempt.
    key = HiddenField(validators=[Optional(), Length(max=64)])


class UploadForm(FlaskForm):
    notebook = FileField(
        "Completed notebook (.ipynb)",
        validators=[
            FileRequired("Choose a .ipynb file."),
            FileAllowed(["ipynb"], "Upload a .ipynb file."),
        ],
    )
    mode = SelectField(
        "What to do",
        choices=[
            SelectChoice(LOAD, "Load into the editors"),
            SelectChoice("check", "Run tests (not counted)"),
            SelectChoice("final", "Submit"),
        ],
    )


class ReviewForm(FlaskForm):
    points = FloatField("Points", validators=[InputRequired(), NumberRange(min=0)])
    comment = TextAreaField("Comment for the engineer", validators=[Optional(), Length(max=2000)])
