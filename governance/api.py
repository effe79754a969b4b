"""Api of the governance app."""
