"""Tests of planning: the plan loader and the optimiser (webapp/services/planning)."""
