"""
The secretariat's list of obligations in the admin (review.admin.ObligationAdmin): filtered by
state, by when they fall due and by ticket; a clerk of another consortium, a board member without
staff access and an anonymous visitor see none of it.
"""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from review.models import Obligation

pytestmark = pytest.mark.django_db

LIST = reverse("admin:review_obligation_changelist")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_secretariat_lists_and_filters_its_obligations(approve, clerk_a):
    ticket = approve()
    report = ticket.obligations.get(kind="periodic_report")
    audit = ticket.obligations.get(kind="security_audit")
    Obligation.objects.filter(pk=audit.pk).update(
        state=Obligation.State.OVERDUE, due_on=datetime.date.today() - datetime.timedelta(days=2)
    )
    client = signed_in(clerk_a)

    listing = client.get(LIST)
    assert listing.status_code == 200
    html = listing.content.decode()
    for obligation in (report, audit):
        assert reverse("review:obligation", args=[ticket.pk, obligation.pk]) in html
    assert f"#{ticket.pk} {ticket.title}" in html  # the ticket filter names it

    def shown(query: dict) -> set[int]:
        response = client.get(LIST, query)
        assert response.status_code == 200
        return {obj.pk for obj in response.context["cl"].result_list}

    assert shown({"state__exact": "overdue"}) == {audit.pk}
    assert shown({"state__exact": "open"}) == {report.pk}
    assert shown({"due": "past"}) == {audit.pk}
    assert shown({"due": "none"}) == set()
    assert shown({"ticket": str(ticket.pk)}) == {report.pk, audit.pk}
    assert shown({"ticket": str(ticket.pk + 1000)}) == set()
    # Bad input in the filter is an empty list, never an error page.
    assert shown({"ticket": "abc"}) == set()
    assert shown({"ticket": "9" * 40}) == set()

    page = client.get(reverse("admin:review_obligation_change", args=[audit.pk]))
    assert page.status_code == 200
    assert audit.text in page.content.decode()
    # It only reads: evidence, verdicts and waivers have their own pages and services.
    assert client.post(reverse("admin:review_obligation_add"), {}).status_code == 403


def test_nobody_else_sees_the_obligations(approve, clerk_b, reviewer_a, rep_a, client):
    ticket = approve()
    audit = ticket.obligations.get(kind="security_audit")
    change = reverse("admin:review_obligation_change", args=[audit.pk])

    other = signed_in(clerk_b)
    listing = other.get(LIST)
    assert listing.status_code == 200
    assert audit.text not in listing.content.decode()
    assert ticket.title not in listing.content.decode()  # not even in the ticket filter
    assert other.get(change).status_code == 404  # as for one that does not exist
    assert other.get(LIST, {"ticket": str(ticket.pk)}).context["cl"].result_count == 0

    for user in (reviewer_a, rep_a):  # board members and requesters are not staff
        response = signed_in(user).get(change)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.get(change)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
