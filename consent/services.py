"""Services of the consent app."""
