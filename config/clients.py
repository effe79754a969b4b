"""
Who the client is: its address, and whether it reached us over HTTPS, believed from the
forwarding headers only when the request comes from a proxy named in ``TRUSTED_PROXIES``.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")


@lru_cache(maxsize=1)
def _networks(names: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(name, strict=False) for name in names)


def is_trusted_proxy(address: str) -> bool:
    """Return True if ``address`` is one of the proxies named in ``TRUSTED_PROXIES``."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def forwarded_client(remote: str, forwarded_for: str) -> str:
    """
    Return the client's address: ``remote`` itself unless it is a trusted proxy, else the
    nearest address in ``X-Forwarded-For`` (read from the right, as each proxy appends the
    address it received from) that is not a trusted proxy.
    """
    if not is_trusted_proxy(remote):
        return remote
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted_proxy(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a forged or broken header: the proxy is all we know
    return hops[0] if hops else remote


class TrustedProxyMiddleware:
    """
    Set ``REMOTE_ADDR`` to the client's address and drop the forwarding headers unless the
    request comes from a trusted proxy, so that everything after (the HTTPS check of
    ``SECURE_PROXY_SSL_HEADER``, django-axes' lock-out, the API's rate limits, the password
    reset's throttle) sees the client, never what a client claims in a header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        remote = meta.get("REMOTE_ADDR", "")
        if is_trusted_proxy(remote):
            meta["REMOTE_ADDR"] = forwarded_client(remote, meta.get("HTTP_X_FORWARDED_FOR", ""))
        else:
            for name in FORWARDING_HEADERS:
                meta.pop(name, None)
        return self.get_response(request)


def client_address(request: HttpRequest) -> str:
    """The client's address (``TrustedProxyMiddleware`` has resolved it); axes asks here."""
    return request.META.get("REMOTE_ADDR", "")
