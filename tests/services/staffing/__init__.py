"""Tests of staffing: projects, requirements, gaps (webapp/services/staffing)."""
