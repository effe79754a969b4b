"""Forms of the grants app."""
