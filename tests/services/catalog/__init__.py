"""Tests of the catalog: sync and rendering (webapp/services/catalog)."""
