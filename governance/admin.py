"""Admin of the governance app."""
