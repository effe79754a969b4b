"""Api of the consent app."""
