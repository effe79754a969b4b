"""Api of the grants app."""
