"""Generated organisations: the demo and the big synthetic one for scale tests."""
