"""Who may see or do what: the one access policy every layer asks."""
