"""Services of the grants app."""
