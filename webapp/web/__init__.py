"""Web helpers shared by the blueprints: access decorators, errors, forms, files, headers."""
