"""The workshop catalog: sources on disk, syncing, checking, pages, rendering."""
