"""
Demo data of the grants app, loaded by `manage.py seed_demo` after the review demo; idempotent.

The mobility company's service (the service named on the demo's approved review ticket) gets a
client credential and an active grant for that ticket, so that a newcomer can call the API from
docs/grants.md at once.
"""

from django.db import transaction

from governance.demo import demo_consortium
from review.demo import REVIEW_APPROVED_TITLE
from review.models import ReviewTicket

from . import services
from .models import Grant, Service


def _write(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def seed(*, residents: int = 0, stdout=None) -> None:
    """Register the demo service, give it a credential (once) and a grant for its ticket."""
    consortium = demo_consortium()
    ticket = (
        ReviewTicket.objects.filter(
            consortium=consortium,
            title=REVIEW_APPROVED_TITLE,
            state=ReviewTicket.State.APPROVED,
        ).first()
        if consortium
        else None
    )
    if ticket is None:
        _write(stdout, "Grants: no approved demo review ticket yet; no grant made.\n")
        return
    with transaction.atomic():
        service = Service.objects.filter(
            consortium=consortium, organization=ticket.requester, name=ticket.service_name
        ).first()
        if service is None:
            service = services.service_register(
                actor=None,
                consortium=consortium,
                organization=ticket.requester,
                name=ticket.service_name,
            )
        secret = None
        credential = next((c for c in service.credentials.all() if c.is_valid()), None)
        if credential is None:
            credential, secret = services.credential_issue(actor=None, service=service)
        grant = Grant.objects.filter(
            service=service, ticket_id=ticket.pk, status=Grant.Status.ACTIVE
        ).first()
        if grant is None or not grant.is_active():
            grant = services.grant_issue(actor=None, service=service, ticket=ticket)
    _write(stdout, f"Grants: service {service.name!r}, grant {grant.jti}.\n")
    if secret:
        _write(
            stdout,
            f"  client id {credential.client_id}\n  client secret {secret}\n"
            "  (shown only now; see docs/grants.md to call the API)\n",
        )
    else:
        _write(
            stdout,
            f"  client id {credential.client_id}; its secret was shown when it was made. For a "
            "new one: /admin/grants/service/, select the service, action "
            "'Issue a new client secret'.\n",
        )
