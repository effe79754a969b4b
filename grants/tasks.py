"""Tasks of the grants app."""
