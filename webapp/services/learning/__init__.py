"""Learning: submissions, grading them, scores, progress, practice runs, reviews."""
