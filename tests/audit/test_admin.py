import pytest

from audit import services

from .helpers import build_chain

pytestmark = pytest.mark.django_db


def test_entries_are_read_only_in_the_admin_even_for_a_superuser(client, superuser):
    build_chain(2)
    client.force_login(superuser)

    listing = client.get("/admin/audit/entry/")
    detail = client.get("/admin/audit/entry/1/change/")
    add = client.get("/admin/audit/entry/add/")
    delete = client.post("/admin/audit/entry/1/delete/", {"post": "yes"})

    assert listing.status_code == 200 and "test.recorded" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert add.status_code == 403
    assert delete.status_code == 403
    assert services.selectors.chain_head().seq == 2


def test_staff_without_audit_permission_cannot_read_the_log(client, clerk_a):
    build_chain(1)
    client.force_login(clerk_a)

    assert client.get("/admin/audit/entry/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/admin/audit/entry/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_entry_list_says_what_happened_in_words_and_filters_by_it(client, superuser):
    services.signing_key_ensure()
    build_chain(1)
    services.seal()
    client.force_login(superuser)

    listing = client.get("/admin/audit/entry/").content.decode()
    assert "署名鍵の作成" in listing  # key.created, in the reader's language
    assert ">key.created<" not in listing
    filtered = client.get("/admin/audit/entry/", {"action": "key.created"}).content.decode()
    assert filtered.count('class="field-action_label"') == 1
    detail = client.get("/admin/audit/entry/1/change/").content.decode()
    assert "署名鍵の作成" in detail and "key.created" in detail  # the log keeps the code
