"""Staffing pages for managers and admins: projects, their gaps, training plans, imports."""

from flask import Blueprint

bp = Blueprint("staffing", __name__, url_prefix="/staffing")

from webapp.staffing import capacity_views, plan_views, records_views, views  # noqa: E402,F401
