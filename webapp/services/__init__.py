"""The domain: plain typed functions over an explicit session; no Flask imports."""
