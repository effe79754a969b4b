"""Selectors of the grants app."""
