"""Admin of the consent app."""
