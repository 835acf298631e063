"""Training plans: the optimiser's inputs, the solver model, explanations."""
