"""Tests of the access policy (webapp/services/access)."""
