"""Admin of the grants app."""
