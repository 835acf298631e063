"""Skills: the current-level rule, estimates, matrices, trends, learning paths."""
