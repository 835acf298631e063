"""Skill pages for engineers (their own), managers (their teams') and admins (everything)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from webapp.db import db
from webapp.models import EvidenceSource, Team
from webapp.services.access import policy
from webapp.services.errors import NotFound
from webapp.services.learning import engineer_view, hints
from webapp.services.skills import estimates, learning_path, pages
from webapp.services.skills import trends as skill_trends
from webapp.settings import Settings, settings_of
from webapp.skills import bp
from webapp.skills.forms import AssessmentForm, TargetProfileForm
from webapp.web.access import manager_required, me, require_engineer_view, require_team_view
from webapp.web.downloads import csv_download


def _settings() -> Settings:
    """This app's settings (estimate ageing, the bus-factor and privacy thresholds)."""
    return settings_of(current_app)


def _now() -> datetime:
    return datetime.now(UTC)


def _assessment_form() -> AssessmentForm:
    form = AssessmentForm()
    return form.fill(pages.skill_catalog(db.session), pages.proficiency_levels(db.session))


def _engineer_context(user_id: int) -> dict[str, object]:
    """What a manager sees about an engineer: levels, sources, dates, confidence, history and
    passed workshops (the API answers managers from the same read model)."""
    view = engineer_view.load(db.session, user_id, now=_now(), settings=_settings().estimates)
    return {
        "engineer": view.engineer,
        "rows": view.rows,
        "history": view.history,
        "passes": view.passes,
        "hints_used": hints.hints_behind_evidence(db.session, user_id=user_id),
    }


# --- engineers: their own skills ---------------------------------------------------------------


@bp.route("/skills")
def mine() -> str:
    context = _engineer_context(me().id)
    levels = pages.proficiency_levels(db.session)
    return render_template("skills/mine.html", form=_assessment_form(), levels=levels, **context)


@bp.route("/skills/assess", methods=["POST"])
def assess_self() -> Response | str:
    form = _assessment_form()
    if not form.validate_on_submit():
        flash("Choose a skill and a level, then record the assessment again.", "warning")
        return redirect(url_for("skills.mine"))
    estimates.record_self_assessment(
        db.session,
        actor=me(),
        skill_id=form.skill.data,
        level=form.level.data,
        note=form.note.data or "",
    )
    db.session.commit()
    flash("Self-assessment recorded. Your earlier assessments stay in the history.", "success")
    return redirect(url_for("skills.mine"))


@bp.route("/skills/history")
def my_history() -> str:
    return render_template("skills/history.html", **_engineer_context(me().id))


@bp.route("/skills/manager-view")
def manager_view() -> str:
    """Exactly the page a manager sees about the logged-in engineer."""
    return render_template("skills/engineer.html", preview=True, **_engineer_context(me().id))


@bp.route("/skills/export.csv")
def my_export() -> Response:
    return _engineer_export(me().id)


@bp.route("/skills/gaps")
def gaps() -> str:
    user = me()
    found = learning_path.engineer_gaps(
        db.session,
        user_id=user.id,
        profile_id=user.target_profile_id,
        now=_now(),
        settings=_settings().estimates,
    )
    path = learning_path.plan_path(
        found,
        learning_path.load_workshop_graph(db.session),
        learning_path.passed_workshop_ids(db.session, user.id),
    )
    form = TargetProfileForm(profile=user.target_profile_id or 0)
    form.fill(pages.role_profiles(db.session))
    return render_template("skills/gaps.html", gaps=found, path=path, form=form)


@bp.route("/skills/target", methods=["POST"])
def choose_target() -> Response:
    form = TargetProfileForm().fill(pages.role_profiles(db.session))
    if not form.validate_on_submit():
        flash("Pick a role profile from the list.", "warning")
        return redirect(url_for("skills.gaps"))
    pages.set_target_profile(db.session, actor=me(), profile_id=form.profile.data or None)
    db.session.commit()
    flash("Target role profile saved; your gaps are measured against it.", "success")
    return redirect(url_for("skills.gaps"))


# --- managers: one engineer ----------------------------------------------------------------


@bp.route("/engineers/<int:user_id>/skills")
def engineer(user_id: int) -> str:
    require_engineer_view(user_id)
    context = _engineer_context(user_id)
    viewer = me()
    form = None
    if policy.is_manager_or_admin(viewer) and viewer.id != user_id:
        form = _assessment_form()
    levels = pages.proficiency_levels(db.session)
    return render_template(
        "skills/engineer.html", preview=False, form=form, levels=levels, **context
    )


@bp.route("/engineers/<int:user_id>/assess", methods=["POST"])
@manager_required
def assess_engineer(user_id: int) -> Response:
    require_engineer_view(user_id)
    form = _assessment_form()
    if not form.validate_on_submit():
        flash("Choose a skill and a level, then record the assessment again.", "warning")
        return redirect(url_for("skills.engineer", user_id=user_id))
    estimates.record_manager_assessment(
        db.session,
        actor=me(),
        engineer_id=user_id,
        skill_id=form.skill.data,
        level=form.level.data,
        note=form.note.data or "",
    )
    db.session.commit()
    flash("Manager assessment recorded; the engineer sees it in their history.", "success")
    return redirect(url_for("skills.engineer", user_id=user_id))


@bp.route("/engineers/<int:user_id>/skills/export.csv")
def engineer_export(user_id: int) -> Response:
    require_engineer_view(user_id)
    return _engineer_export(user_id)


def _engineer_export(user_id: int) -> Response:
    context = _engineer_context(user_id)
    if request.args.get("table") == "workshops":
        return csv_download(
            f"workshops-passed-{user_id}.csv",
            ["workshop", "passed_at"],
            (
                [p.workshop_title, p.passed_at.date().isoformat()]
                for p in context["passes"]  # type: ignore[attr-defined]
            ),
        )
    if request.args.get("table") == "history":
        used: dict[int, int] = context["hints_used"]  # type: ignore[assignment]
        return csv_download(
            f"skill-history-{user_id}.csv",
            ["skill", "level", "source", "recorded_at", "recorded_by", "note", "hints_used"],
            (
                [h.skill_name, h.level, h.source, h.recorded_at.isoformat(), h.recorded_by, h.note,
                 used.get(h.evidence_id, 0) if h.source == EvidenceSource.WORKSHOP else ""]
                for h in context["history"]  # type: ignore[attr-defined]
            ),
        )  # fmt: skip
    return csv_download(
        f"skills-{user_id}.csv",
        ["category", "skill", "level", "source", "recorded_at", "confidence", "claimed_level",
         "verified_level", "due_for_reverification"],
        (
            [r.skill.category, r.skill.name, r.estimate.level, r.estimate.source,
             r.estimate.recorded_at.date().isoformat(), r.estimate.confidence,
             r.estimate.claimed_level or "", r.estimate.verified_level or "",
             "yes" if r.estimate.due_for_reverification else "no"]
            for r in context["rows"]  # type: ignore[attr-defined]
        ),
    )  # fmt: skip


# --- managers: teams ---------------------------------------------------------------------


@bp.route("/skills/teams")
@manager_required
def team_index() -> str:
    user = me()
    ids = policy.team_scope(db.session, user)
    return render_template("skills/teams.html", teams=pages.teams_visible_to(db.session, ids))


def _team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound("That team does not exist.")
    require_team_view(team.id)
    return team


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _matrix(team_id: int) -> tuple[pages.MatrixQuery, pages.TeamMatrix]:
    query = pages.MatrixQuery(
        category_id=_int_arg("category"),
        project_id=_int_arg("project"),
        sort_skill_id=_int_arg("sort"),
        show_all=request.args.get("all") == "1",
    )
    settings = _settings()
    matrix = pages.team_matrix(
        db.session,
        team_id,
        query,
        now=_now(),
        settings=settings.estimates,
        bus_factor_min=settings.bus_factor_min,
        min_group=settings.min_aggregate_group,
    )
    return query, matrix


@bp.route("/teams/<int:team_id>/matrix")
@manager_required
def matrix(team_id: int) -> str:
    team = _team(team_id)
    query, result = _matrix(team.id)
    return render_template(
        "skills/matrix.html",
        team=team,
        query=query,
        matrix=result,
        categories=pages.categories(db.session),
        projects=pages.team_projects(db.session, team.id),
        min_group=_settings().min_aggregate_group,
        bus_factor_min=_settings().bus_factor_min,
    )


@bp.route("/teams/<int:team_id>/matrix/export.csv")
@manager_required
def matrix_export(team_id: int) -> Response:
    team = _team(team_id)
    _, result = _matrix(team.id)
    if request.args.get("table") == "bus-factor":
        return csv_download(
            f"bus-factor-team-{team.id}.csv",
            ["project", "skill", "min_level", "verified_holders"],
            ([w.project, w.skill_name, w.min_level, w.verified_holders] for w in result.warnings),
        )
    return csv_download(f"skill-matrix-team-{team.id}.csv", *matrix_table(result))


def matrix_table(result: pages.TeamMatrix) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the matrix as text: "3" claimed, "3v" verified, "" none."""
    header = ["engineer"] + [s.name for s in result.skills]
    rows: list[list[object]] = []
    for i, (_, name) in enumerate(result.engineers):
        cells = [result.cell(i, j) for j in range(len(result.skills))]
        rows.append([name, *(f"{c[0]}{'v' if c[1] else ''}" if c[0] else "" for c in cells)])
    if result.coverage is not None:
        rows.append(["coverage (holders / verified)", *(f"{h}/{v}" for h, v in result.coverage)])
    return header, rows


@bp.route("/teams/<int:team_id>/report")
@manager_required
def report(team_id: int) -> str:
    """A printable report: matrix, coverage, bus-factor warnings and trends on one page."""
    team = _team(team_id)
    query, result = _matrix(team.id)
    return render_template(
        "skills/report.html",
        team=team,
        project=_project_name(team.id, query.project_id),
        matrix=result,
        trends=_trends(team.id),
        generated=_now(),
        min_group=_settings().min_aggregate_group,
    )


def _project_name(team_id: int, project_id: int | None) -> str | None:
    """The name of the project the matrix is filtered on (None: the whole team)."""
    if project_id is None:
        return None
    return dict(pages.team_projects(db.session, team_id)).get(project_id)


def _trends(team_id: int) -> list[skill_trends.TrendPoint] | None:
    """Monthly trend points, or None when the team is below the minimum group size."""
    ids = [u for u, _ in pages.team_engineers(db.session, team_id)]
    if len(ids) < _settings().min_aggregate_group:
        return None
    return skill_trends.team_trends(db.session, ids, now=_now(), settings=_settings().estimates)


@bp.route("/teams/<int:team_id>/trends")
@manager_required
def trends(team_id: int) -> str:
    team = _team(team_id)
    return render_template(
        "skills/trends.html",
        team=team,
        trends=_trends(team.id),
        min_group=_settings().min_aggregate_group,
    )


@bp.route("/teams/<int:team_id>/trends/export.csv")
@manager_required
def trends_export(team_id: int) -> Response:
    team = _team(team_id)
    points = _trends(team.id) or []
    return csv_download(
        f"skill-trends-team-{team.id}.csv",
        ["month", "verified_pairs", "claimed_only_pairs", "skills_covered", "mean_level",
         "workshops_passed"],
        ([p.month, p.verified_pairs, p.claimed_only_pairs, p.skills_covered, p.mean_level,
          p.workshops_passed] for p in points),
    )  # fmt: skip
