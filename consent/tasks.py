"""Tasks of the consent app."""


def data_access_expand() -> int:
    """Copy the consent check's batches of accesses into the per-resident access table."""
    from .services import data_access_expand as expand

    return expand()
