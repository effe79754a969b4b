"""
Links other apps add to the resident portal's menu, which consent shows without importing
them: each app registers ``(url_name, label)`` in its ``AppConfig.ready()`` (participation: the
consultations and the resident's own comments).
"""

_links: dict[str, object] = {}


def register(url_name: str, label) -> None:
    """Show ``label`` (a lazy translation) linking to ``url_name`` in the portal's menu."""
    _links[url_name] = label


def links() -> list[tuple[str, object]]:
    """Return the registered links, in the order they were registered."""
    return list(_links.items())
