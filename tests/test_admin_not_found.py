"""
Every admin answers the same 404 for another consortium's object as for one that does not exist,
on each of its object pages, so that a clerk learns nothing of other consortia (it answered a
302 to the admin's index with "does not exist, perhaps it was deleted" for some).
"""

import pytest
from django.contrib import admin
from django.test import Client

from governance.models import Membership

pytestmark = pytest.mark.django_db

ADMINS = sorted((model._meta.app_label, model._meta.model_name) for model in admin.site._registry)
PAGES = ["change", "history", "delete"]


@pytest.fixture
def clerk_b_client(clerk_b):
    client = Client(raise_request_exception=False)
    client.force_login(clerk_b)
    return client


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("app_label", "model_name"), ADMINS)
def test_a_missing_object_is_404_in_every_admin(clerk_b_client, app_label, model_name, page):
    response = clerk_b_client.get(f"/admin/{app_label}/{model_name}/987654321/{page}/")

    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("pk", ["{a}%20", "x", "99999999999999999999"])
def test_an_address_that_is_no_id_is_404_too(clerk_b_client, consortium_a, page, pk):
    pk = pk.format(a=consortium_a.pk)  # "1 " is read as 1: another consortium's, then
    response = clerk_b_client.get(f"/admin/governance/consortium/{pk}/{page}/")

    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_another_consortiums_objects_are_the_same_404(
    clerk_b_client, consortium_a, company_a, clerk_a, page
):
    import datetime

    membership = Membership.objects.create(
        consortium=consortium_a, organization=company_a, joined_on=datetime.date(2024, 4, 1)
    )
    for app_label, model_name, pk in [
        ("governance", "consortium", consortium_a.pk),
        ("governance", "membership", membership.pk),
    ]:
        response = clerk_b_client.get(f"/admin/{app_label}/{model_name}/{pk}/{page}/")
        assert response.status_code == 404, (model_name, response.status_code)
