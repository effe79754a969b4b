"""Models of the grants app."""
