"""How people are named on governance's pages, letters and minutes."""


def person_name(user) -> str:
    """
    Return the user's name family name first ("伊藤 誠"), as Japanese documents write it, or the
    username when no name is recorded. Django's get_full_name() puts the given name first.
    """
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.get_username()
