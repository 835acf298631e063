"""Tests of skills: levels, estimates, learning paths, the skill pages (webapp/services/skills)."""
