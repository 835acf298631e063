"""A person's capacity: availability, weekly learning budget and holidays (manager or admin)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.models import User
from webapp.services.people import capacity
from webapp.services.staffing import availability
from webapp.settings import settings_of
from webapp.staffing import bp
from webapp.staffing.forms import CapacityForm
from webapp.web.access import manager_required, me
from webapp.web.forms import attempt


@bp.route("/people/<int:user_id>/capacity")
@manager_required
def person_capacity(user_id: int) -> str:
    person = capacity.person_to_edit(db.session, user_id, me())
    form = CapacityForm()
    form.availability.data = str(person.availability_pct)
    hours = person.learning_hours_per_week
    form.hours_per_week.data = "" if hours is None else f"{hours:g}"
    form.holidays.data = capacity.holidays_text(person).replace("; ", "\n")
    return _page(person, form)


@bp.route("/people/<int:user_id>/capacity", methods=["POST"])
@manager_required
def save_capacity(user_id: int) -> Response | tuple[str, int]:
    """Save the form; on bad input nothing is stored and the form comes back with the reason."""
    person = capacity.person_to_edit(db.session, user_id, me())
    form = CapacityForm()
    if form.validate_on_submit():
        saved = attempt(
            lambda: capacity.set_capacity(
                db.session,
                person_id=user_id,
                capacity=capacity.parse_capacity(
                    form.availability.data or "",
                    form.hours_per_week.data or "",
                    form.holidays.data or "",
                ),
                actor=me(),
            )
        )
        if saved is not None:
            flash(f"Saved the capacity of {saved.display_name}.", "success")
            return redirect(url_for("staffing.person_capacity", user_id=user_id))
    return _page(person, form), 400


def _page(person: User, form: CapacityForm) -> str:
    return render_template(
        "staffing/capacity.html",
        person=person,
        form=form,
        load=availability.load_people(db.session, [person.id])[person.id],
        default_hours=settings_of(current_app).plan.hours_per_week,
    )
