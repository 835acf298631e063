"""Grading engine: nbgrader-format notebooks, the kernel sandbox, the warm pool and scoring."""
