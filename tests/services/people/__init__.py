"""Tests of people: accounts, API tokens, the roster (webapp/services/people)."""
