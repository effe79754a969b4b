"""The secretariat's publication decisions in the admin go through the audited services."""

import pytest

from audit import services as audit_services
from audit.models import Entry
from public.models import PublicationSettings

pytestmark = pytest.mark.django_db


def test_clerk_decides_what_is_published_and_it_is_audited(client, clerk_a, consortium_a):
    client.force_login(clerk_a)
    response = client.post(
        "/admin/public/publicationsettings/add/",
        {"consortium": consortium_a.pk, "publish_officers": "on", "board_disclosure": "names"},
    )
    assert response.status_code == 302
    settings_ = PublicationSettings.objects.get(consortium=consortium_a)
    assert settings_.publish_officers and settings_.board_disclosure == "names"
    audit_services.seal()
    assert Entry.objects.filter(action="publication.settings_set").count() == 1


def test_another_consortiums_clerk_cannot_choose_it(client, clerk_b, consortium_a):
    client.force_login(clerk_b)
    response = client.post(
        "/admin/public/publicationsettings/add/",
        {"consortium": consortium_a.pk, "board_disclosure": "names"},
    )
    assert response.status_code == 200  # the form refuses the choice
    assert not PublicationSettings.objects.exists()
