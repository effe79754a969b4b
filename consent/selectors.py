"""Selectors of the consent app."""
