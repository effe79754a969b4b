"""Tasks of the consent app."""


def data_access_expand() -> int:
    """Copy the consent check's batches of accesses into the per-resident access table."""
    from .services import data_access_expand as expand

    return expand()


def representations_end_due() -> int:
    """End the representations whose end date passed or whose minor came of age today."""
    from .services import representations_end_due as end_due

    return end_due()
