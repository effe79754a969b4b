"""
A purpose opens, and its notice changes, only under an approval in force of the data-ethics
board that covers it (review.approvals through consent.approvals).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import PendingEntry
from consent import services
from consent.models import Purpose
from review.models import ReviewTicket
from tests.conftest import approve_purpose

from .conftest import make_purpose

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(consortium_a, city_a, company_a, steps):
    return make_purpose(consortium_a, city_a, [steps], [company_a], publish=False)


def publish(purpose):
    return services.purpose_publish(actor=None, purpose=purpose)


def test_without_an_approval_the_purpose_stays_a_draft(draft):
    with translation.override("ja"), pytest.raises(ValidationError) as refused:
        publish(draft)
    assert "データ倫理審査会の承認がありません" in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.status == Purpose.Status.DRAFT and draft.current_notice is None
    assert not PendingEntry.objects.filter(action="purpose.published").exists()


def test_an_approval_in_force_opens_it_and_the_notice_names_the_decision(draft, client):
    ticket = approve_purpose(draft)
    purpose = publish(draft)
    notice = purpose.current_notice
    assert purpose.status == Purpose.Status.OPEN
    decided = timezone.localdate(ticket.decided_at)
    assert (notice.approval_ticket, notice.approval_decided_on) == (ticket.pk, decided)
    day = decided.isoformat()
    assert f"データ倫理審査会の承認：審査 #{ticket.pk}（{day} 決定）" in notice.text_ja
    assert f"Approved by the data-ethics board: review #{ticket.pk}, decided on {day}." in (
        notice.text_en
    )
    entry = PendingEntry.objects.get(action="notice.published")
    assert entry.data["ticket_id"] == ticket.pk and entry.data["changed"] == []
    # The public notice page names it, in Japanese and in English.
    url = reverse("consent:notice", args=[purpose.pk, notice.version])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert page.count(f"審査 #{ticket.pk}") >= 2  # the page's line and the notice's text
    client.cookies.load({"django_language": "en"})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"review #{ticket.pk}, decided on {day}" in page


@pytest.mark.parametrize(
    "state, term, message",
    [
        ("approved", -1, "期間が終了"),  # expired yesterday
        ("suspended", 30, "停止中"),
        ("closed", 30, "終了しています"),
        ("in_review", None, "まだデータ倫理審査会の承認を受けていません"),
        ("rejected", None, "データ倫理審査会の承認がありません"),
    ],
)
def test_an_approval_not_in_force_does_not_open_it(draft, state, term, message):
    ticket = approve_purpose(draft)
    today = timezone.localdate()
    ticket.state = state
    if term is None:
        ticket.valid_from = ticket.valid_until = ticket.decided_at = None
    else:
        ticket.valid_until = today + datetime.timedelta(days=term)
    ticket.save()
    with translation.override("ja"), pytest.raises(ValidationError) as refused:
        publish(draft)
    assert message in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.status == Purpose.Status.DRAFT


@pytest.mark.parametrize(
    "approved, field",
    [
        ({"retention_days": 100}, "retention_days"),
        ({"recipients": []}, "recipients"),
        ({"third_party_provision": False}, "recipients"),
        ({"anonymisation": "pseudonymised"}, "processing"),
    ],
)
def test_an_approval_narrower_than_the_purpose_does_not_open_it(draft, approved, field):
    approve_purpose(draft, **approved)
    with pytest.raises(ValidationError) as refused:
        publish(draft)
    assert field in refused.value.message_dict


def test_an_approval_without_one_of_the_categories_does_not_open_it(draft, checkup):
    approve_purpose(draft)
    draft.categories.add(checkup)
    with translation.override("ja"), pytest.raises(ValidationError) as refused:
        publish(draft)
    assert "健診結果" in " ".join(refused.value.message_dict["categories"])


@pytest.fixture
def opened(draft):
    ticket = approve_purpose(draft)
    purpose = publish(draft)
    purpose.ticket = ticket
    return purpose


def change(purpose, *, categories=None, recipients=None, **fields):
    purpose = Purpose.objects.get(pk=purpose.pk)
    for name, value in fields.items():
        setattr(purpose, name, value)
    return services.purpose_save(
        actor=None,
        purpose=purpose,
        categories=list(purpose.categories.all()) if categories is None else categories,
        recipients=list(purpose.recipients.all()) if recipients is None else recipients,
    )


@pytest.mark.parametrize(
    "widen, field",
    [
        ({"retention_days": 400}, "retention_days"),
        ({"processing": "none"}, None),  # the same as approved: not a widening
    ],
)
def test_widening_the_retention_is_refused(opened, widen, field):
    if field is None:
        change(opened, **widen)
        return
    with translation.override("ja"), pytest.raises(ValidationError) as refused:
        change(opened, **widen)
    assert field in refused.value.message_dict
    assert "変更申請" in " ".join(refused.value.messages)
    opened.refresh_from_db()
    assert opened.current_notice.version == 1 and opened.retention_days == 365


def test_widening_the_data_or_recipients_is_refused(opened, steps, checkup):
    from governance.models import Organization

    other = Organization.objects.create(kind="company", name_ja="会津エナジー", name_en="Energy")
    with pytest.raises(ValidationError) as refused:
        change(opened, categories=[steps, checkup])
    assert "categories" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        change(opened, recipients=[*opened.recipients.all(), other])
    assert "recipients" in refused.value.message_dict
    assert Purpose.objects.get(pk=opened.pk).current_notice.version == 1


def test_narrowing_or_rewording_is_published_and_recorded(opened, company_a):
    change(opened, retention_days=200, recipients=[])
    purpose = change(opened, title_en="Points for walking")
    purpose.refresh_from_db()
    assert purpose.current_notice.version == 3
    first, second = PendingEntry.objects.filter(
        action="notice.published", payload__contains='"previous_version"'
    ).order_by("id")[1:3]
    assert first.data["changed"] == ["recipients", "retention_days"]
    assert first.data["ticket_id"] == opened.ticket.pk and first.data["previous_version"] == 1
    assert second.data["changed"] == ["title"]
    assert "Points for walking" not in second.payload  # names of terms, never their texts


def test_an_amendment_approved_by_the_board_lets_the_notice_widen(opened, checkup, steps):
    amendment = approve_purpose(
        opened, categories=[steps, checkup], kind="amendment", previous=opened.ticket
    )
    purpose = change(opened, categories=[steps, checkup])
    purpose.refresh_from_db()
    assert purpose.current_notice.version == 2
    assert purpose.current_notice.approval_ticket == amendment.pk


def test_a_suspended_approval_stops_notice_changes(opened):
    ReviewTicket.objects.filter(pk=opened.ticket.pk).update(state="suspended")
    with translation.override("ja"), pytest.raises(ValidationError, match="停止中"):
        change(opened, retention_days=100)


def test_the_secretariat_is_told_in_japanese_which_field_widens(
    opened, client, clerk_a, consortium_a
):
    from governance.models import Organization

    # The organisations A registered are the admin's choices.
    Organization.objects.update(registered_by=consortium_a)
    client.force_login(clerk_a)
    url = reverse("admin:consent_purpose_change", args=[opened.pk])
    form = {
        "code": opened.code,
        "title_ja": opened.title_ja,
        "title_en": opened.title_en,
        "explanation_ja": opened.explanation_ja,
        "explanation_en": opened.explanation_en,
        "categories": [c.pk for c in opened.categories.all()],
        "controller": opened.controller_id,
        "recipients": [r.pk for r in opened.recipients.all()],
        "retention_days": 800,
        "consent_valid_days": "",
        "notices-TOTAL_FORMS": 0,
        "notices-INITIAL_FORMS": 0,
    }
    response = client.post(url, form, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "保存期間 800 日" in " ".join(errors["retention_days"])
    page = response.content.decode()
    assert f"審査 #{opened.ticket.pk}" in page and 'value="800"' in page  # kept as typed
    assert Purpose.objects.get(pk=opened.pk).current_notice.version == 1
    # Within the approval, the change is saved and published.
    response = client.post(url, {**form, "retention_days": 300}, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 302
    assert Purpose.objects.get(pk=opened.pk).current_notice.version == 2


def test_the_command_lists_each_open_purpose_with_its_approval(opened):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    call_command("purpose_approvals", stdout=out)
    assert f"aizu/health-points: review #{opened.ticket.pk}" in out.getvalue()
    # Opened before the rule (or its approval ended since): listed as not covered, exit 1.
    ReviewTicket.objects.filter(pk=opened.ticket.pk).update(state="closed")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 open purpose"):
        call_command("purpose_approvals", stdout=out)
    assert "aizu/health-points: NOT COVERED" in out.getvalue()


def test_the_purposes_page_shows_the_approval_covering_it(opened, client, clerk_a):
    client.force_login(clerk_a)
    url = reverse("admin:consent_purpose_change", args=[opened.pk])
    ticket = opened.ticket
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "審査会の承認" in page and f"審査 #{ticket.pk}" in page
    # Once the approval is suspended the page says so instead.
    ReviewTicket.objects.filter(pk=ticket.pk).update(state="suspended")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "停止中" in page
