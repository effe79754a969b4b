"""Record ids as they arrive in addresses, forms and API bodies."""

# The largest primary key (BigAutoField). A larger number is no id, and the database refuses it
# instead of finding nothing.
ID_MAX = 2**63 - 1


def parse_id(value) -> int | None:
    """
    Return the id ``value`` names: a whole number written in the digits 0-9, at most ID_MAX;
    else None. (``str.isdigit`` also takes "²", which ``int()`` refuses.)
    """
    text = str(value)
    # Bounded before int(), which refuses more than 4,300 digits with an error of its own.
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(ID_MAX)):
        return None
    number = int(text)
    return number if number <= ID_MAX else None
