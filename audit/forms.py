"""Forms of the audit app."""
