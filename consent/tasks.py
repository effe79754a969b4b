"""Tasks of the consent app."""
