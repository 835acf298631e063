"""Tests of learning: submissions, practice, scoring, grading (webapp/services/learning)."""
