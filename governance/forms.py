"""Forms of the governance app."""
