"""Counters in the cache that limit how often something may be asked for in a window of time."""

from django.core.cache import cache


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """
    Count one more request under ``key`` and return True if it goes beyond ``limit`` in the
    ``window`` seconds since the first one counted.
    """
    if cache.add(key, 1, window):
        return limit < 1
    try:
        count = cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, window)
        count = 1
    return count > limit
