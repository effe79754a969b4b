"""Views of the grants app."""
