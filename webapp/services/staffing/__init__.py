"""Staffing: projects, requirements, assignments, gaps, and their CSV files."""
