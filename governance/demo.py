"""Demo data of the governance app, loaded by `manage.py seed_demo`; idempotent."""


def seed(*, residents: int = 0, stdout=None) -> None:
    """Create this app's part of the demo consortium (nothing yet)."""
