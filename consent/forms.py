"""Forms of the consent app."""
