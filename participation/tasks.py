"""The participation app's django-q2 tasks."""


def erase_expired_addresses() -> int:
    """Erase the e-mail participants' addresses no longer needed (daily; APPI Art. 22)."""
    from . import services

    return services.email_participants_erase_expired()
