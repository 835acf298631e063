"""People: accounts, passwords, teams, the roster import and API tokens."""
