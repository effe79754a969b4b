"""Selectors of the governance app."""
