"""
KPIs and their PDCA: indicators defined and measured through audited services, values the
platform computes matching counts made here independently, a review put on a general
assembly's agenda, and the public scorecard showing public indicators only.
"""

import datetime
import statistics
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit import services as audit_services
from audit.models import Entry
from consent import services as consent_services
from governance import services as governance_services
from governance.models import Resolution
from public import services
from public.models import Indicator, PdcaReview
from review.models import ReviewRound, ReviewTicket
from tests.governance import conftest as governance_fixtures

from .conftest import make_resident

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 1)


def define(clerk, consortium, **overrides):
    fields = dict(
        code="consent-rate",
        name_ja="同意率",
        name_en="Consent rate",
        definition_ja="歩数データの利用に同意した住民の割合",
        definition_en="Share of residents who agreed to the use of their step counts",
        unit="%",
        direction=Indicator.Direction.INCREASE,
        source=Indicator.Source.ENTERED,
        baseline_value=Decimal("20"),
        baseline_on=datetime.date(2026, 4, 1),
        target_value=Decimal("60"),
        target_on=datetime.date(2027, 3, 31),
        is_public=True,
    )
    fields.update(overrides)
    return services.indicator_define(actor=clerk, consortium=consortium, **fields)


def scorecard(client, lang="en", slug="aizu"):
    return client.get(reverse("public:scorecard", kwargs={"slug": slug, "lang": lang}))


def test_consent_rate_computed_matches_an_independent_count(clerk_a, consortium_a, purpose):
    indicator = define(clerk_a, consortium_a, source=Indicator.Source.CONSENT_RATE, purpose=purpose)
    residents = [make_resident(f"k{i}@example.jp", consortium_a) for i in range(16)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    for resident in residents[:4]:
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    # Independently: 12 of the 16 residents asked agree now.
    assert services.indicators_compute(today=TODAY) == 1
    [measurement] = indicator.measurements.all()
    assert measurement.value == Decimal("75.00") and measurement.computed
    assert measurement.measured_on == TODAY
    audit_services.seal()
    entry = Entry.objects.get(action="indicator.computed")
    assert entry.data["value"] == "75.00" and entry.actor_type == "system"
    # Computing again the same day replaces the value rather than adding one.
    services.indicators_compute(today=TODAY)
    assert indicator.measurements.count() == 1


def test_a_rate_over_fewer_than_ten_residents_is_not_published(clerk_a, consortium_a, purpose):
    indicator = define(clerk_a, consortium_a, source=Indicator.Source.CONSENT_RATE, purpose=purpose)
    for i in range(4):
        consent_services.consent_give(
            actor=None, resident=make_resident(f"f{i}@example.jp", consortium_a), purpose=purpose
        )
    assert services.indicators_compute(today=TODAY) == 0
    assert not indicator.measurements.exists()


def test_decisions_and_days_to_decision_match_the_review_records(clerk_a, consortium_a, register):
    decisions = define(
        clerk_a, consortium_a, code="decisions", source=Indicator.Source.DECISIONS, unit="件"
    )
    days = define(
        clerk_a,
        consortium_a,
        code="decision-days",
        source=Indicator.Source.DECISION_DAYS,
        unit="日",
        direction=Indicator.Direction.DECREASE,
    )
    services.indicators_compute(today=TODAY)
    decided = ReviewTicket.objects.filter(
        consortium=consortium_a, decided_at__isnull=False, state__in=["approved", "rejected"]
    )
    # Two reviewed here, and the approval the fixtures' open purpose was published under.
    assert decisions.measurements.get().value == decided.count() == 3
    # Days to decision: the requests submitted in rounds (the fixtures' approval, stored
    # directly, has none).
    decided = decided.filter(rounds__number=1)
    expected = statistics.median(
        (
            ticket.decided_at - ReviewRound.objects.get(ticket=ticket, number=1).submitted_at
        ).total_seconds()
        / 86400
        for ticket in decided
    )
    assert days.measurements.get().value == Decimal(str(expected)).quantize(Decimal("0.01"))


def test_entered_values_need_a_source_and_only_the_secretariat_enters_them(
    clerk_a, clerk_b, consortium_a, purpose
):
    indicator = define(clerk_a, consortium_a)
    with pytest.raises(ValidationError):
        services.measurement_record(
            actor=clerk_a, indicator=indicator, measured_on=TODAY, value=30, source=" "
        )
    with pytest.raises(PermissionDenied):
        services.measurement_record(
            actor=clerk_b, indicator=indicator, measured_on=TODAY, value=30, source="survey"
        )
    services.measurement_record(
        actor=clerk_a,
        indicator=indicator,
        measured_on=TODAY,
        value=Decimal("31.5"),
        source="市民アンケート",
        evidence="2026年度市民意識調査 報告書 p.12",
    )
    computed = define(
        clerk_a, consortium_a, code="rate", source=Indicator.Source.CONSENT_RATE, purpose=purpose
    )
    with pytest.raises(ValidationError):
        services.measurement_record(
            actor=clerk_a, indicator=computed, measured_on=TODAY, value=1, source="x"
        )
    with pytest.raises(ValidationError):
        define(clerk_a, consortium_a, code="no-purpose", source=Indicator.Source.CONSENT_RATE)


def test_scorecard_shows_public_indicators_only(client, clerk_a, consortium_a):
    public = define(clerk_a, consortium_a)
    hidden = define(
        clerk_a, consortium_a, code="internal", name_en="Internal cost", is_public=False
    )
    for indicator, value in ((public, "31.5"), (hidden, "999")):
        services.measurement_record(
            actor=clerk_a,
            indicator=indicator,
            measured_on=TODAY,
            value=Decimal(value),
            source="survey",
        )
    page = scorecard(client).content.decode()
    assert "Consent rate" in page and "31.50" in page and "<svg" in page
    assert "29% of the way" in page  # (31.5 - 20) / (60 - 20)
    assert "Internal cost" not in page and "999" not in page
    rows = client.get(
        reverse("public:download", kwargs={"slug": "aizu", "key": "indicators", "fmt": "json"})
    ).json()["rows"]
    assert [(row["code"], row["value"]) for row in rows] == [("consent-rate", "31.50")]
    assert scorecard(client, "ja").status_code == 200


def test_a_review_is_recorded_and_put_on_an_assemblys_agenda(
    client, clerk_a, clerk_b, consortium_a, founding_bylaws
):
    indicator = define(clerk_a, consortium_a)
    review = services.pdca_review_record(
        actor=clerk_a,
        indicator=indicator,
        decision=PdcaReview.Decision.REVISE_TARGET,
        period_start=datetime.date(2026, 4, 1),
        period_end=datetime.date(2026, 9, 30),
        plan="説明会を各地区で開く",
        done="説明会を12回開催",
        assessment="同意率は31.5%で、目標の60%に届く見込みがない",
        causes="高齢者にスマートフォンでの手続きが難しい",
        actions="紙の同意書を公民館で受け付ける",
    )
    assembly = governance_services.assembly_create(
        actor=clerk_a,
        consortium=consortium_a,
        title_ja="2026年度臨時総会",
        held_on=governance_fixtures.ASSEMBLY_DAY,
        place="会津若松市役所",
    )
    with pytest.raises(PermissionDenied):
        services.pdca_review_to_assembly(actor=clerk_b, review=review, assembly=assembly)
    review = services.pdca_review_to_assembly(actor=clerk_a, review=review, assembly=assembly)
    resolution = review.resolution
    assert resolution.assembly == assembly and resolution.status == Resolution.Status.OPEN
    assert resolution.kind == Resolution.Kind.BUSINESS_PLAN
    assert "紙の同意書" in resolution.text
    with pytest.raises(ValidationError):
        services.pdca_review_to_assembly(actor=clerk_a, review=review, assembly=assembly)
    audit_services.seal()
    assert Entry.objects.get(action="pdca.put_to_assembly").data == {
        "resolution": resolution.pk,
        "assembly": assembly.pk,
    }
    page = scorecard(client).content.decode()
    assert "高齢者にスマートフォンでの手続きが難しい" in page and "revise the target" in page


def test_secretariat_defines_an_indicator_in_the_admin(client, clerk_a, consortium_a):
    client.force_login(clerk_a)
    response = client.post(
        "/admin/public/indicator/add/",
        {
            "consortium": consortium_a.pk,
            "code": "residents",
            "name_ja": "参加住民数",
            "name_en": "Residents taking part",
            "definition_ja": "同意した住民の数",
            "unit": "人",
            "direction": "increase",
            "source": "entered",
            "baseline_value": "100",
            "baseline_on": "2026-04-01",
            "target_value": "1000",
            "target_on": "2027-03-31",
            "is_public": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    indicator = Indicator.objects.get(code="residents")
    audit_services.seal()
    assert Entry.objects.get(action="indicator.defined").object_id == str(indicator.pk)


def test_participants_computed_match_the_comments_of_the_last_twelve_months(clerk_a, consortium_a):
    from django.utils import timezone

    from participation import services as participation_services
    from participation.models import Channel
    from tests.participation.conftest import make_consultation

    today = timezone.localdate()
    indicator = define(
        clerk_a,
        consortium_a,
        code="participants",
        source=Indicator.Source.PARTICIPANTS,
        unit="人",
    )
    now = timezone.now()
    consultation = make_consultation(consortium_a, clerk_a)
    # Over a year ago, in a consultation of its own: not counted.
    past = now - datetime.timedelta(days=400)
    old = make_consultation(
        consortium_a,
        clerk_a,
        now=past,
        opens_at=past - datetime.timedelta(days=1),
        closes_at=past + datetime.timedelta(days=10),
    )
    someone = make_resident("long-ago@example.jp", consortium_a)
    participation_services.comment_submit(
        actor=None, consultation=old, resident=someone, text="昔の意見", now=past
    )

    def comment(resident):
        participation_services.comment_submit(
            actor=None, consultation=consultation, resident=resident, text="意見です"
        )

    people = [make_resident(f"p{n}@example.jp", consortium_a) for n in range(8)]
    for person in people:
        comment(person)
    comment(people[0])  # a second comment: still one person
    participation_services.comment_enter_offline(
        actor=clerk_a, consultation=consultation, channel=Channel.MEETING, text="会場での意見"
    )
    # Nine people: fewer than ten are never published.
    assert services.indicators_compute(today=today) == 0
    comment(make_resident("p9@example.jp", consortium_a))
    assert services.indicators_compute(today=today) == 1
    assert indicator.measurements.get().value == Decimal("10.00")


def test_obligations_met_on_time_match_a_count_of_the_due_dates(
    clerk_a, rep_a, consortium_a, ticket
):
    """
    Three due dates of the board's conditions passed: one answered by evidence filed before it
    and accepted, one answered late, one still owed; a waived one and one not yet due do not
    count. The platform's share must be the count made here: 1 of 3.
    """
    from django.utils import timezone

    from review import services as review_services
    from review.models import Obligation

    today = timezone.localdate()

    def owed(due_on, text):
        return Obligation.objects.create(
            ticket=ticket, owner=ticket.requester, kind="periodic_report", text=text, due_on=due_on
        )

    in_time = owed(today + datetime.timedelta(days=5), "on time")
    late = owed(today - datetime.timedelta(days=1), "late")
    missed = owed(today + datetime.timedelta(days=10), "missed")
    owed(today + datetime.timedelta(days=60), "not yet due")
    waived = owed(today + datetime.timedelta(days=3), "waived")
    for obligation in (in_time, late):
        review_services.obligation_evidence_submit(actor=rep_a, obligation=obligation, text="済")
        review_services.obligation_accept(actor=clerk_a, obligation=obligation)
    review_services.obligation_waive(actor=clerk_a, obligation=waived, reason="事業中止")
    indicator = define(
        clerk_a,
        consortium_a,
        code="obligations-on-time",
        source=Indicator.Source.OBLIGATIONS_ON_TIME,
    )
    day = today + datetime.timedelta(days=20)
    due = [o for o in (in_time, late, missed) if o.due_on < day]
    on_time = [
        o
        for o in due
        if any(
            timezone.localtime(e.submitted_at).date() <= o.due_on
            for e in o.evidence.filter(verdict="accepted")
        )
    ]
    assert (len(due), len(on_time)) == (3, 1)
    services.indicators_compute(today=day)
    assert indicator.measurements.get().value == Decimal("33.33")
    assert missed.state == "open"


def test_residents_reached_and_data_released_match_independent_counts(
    client, clerk_a, consortium_a, purpose, city_a, company_a
):
    reached = define(
        clerk_a,
        consortium_a,
        code="reached",
        source=Indicator.Source.RESIDENTS_REACHED,
        purpose=purpose,
    )
    released = define(clerk_a, consortium_a, code="released", source=Indicator.Source.DATA_RELEASES)
    residents = [make_resident(f"r{i}@example.jp", consortium_a) for i in range(13)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    for resident in residents[:3]:
        consent_services.consent_withdraw(actor=None, resident=resident, purpose=purpose)
    ids = [resident.pseudonymous_id for resident in residents]
    japan = datetime.timezone(datetime.timedelta(hours=9))

    def release(organization, service, pseudonymous_ids, at):
        consent_services.data_access_record_batch(
            actor=None,
            purpose=purpose,
            organization=organization,
            service_name=service,
            grant_jti=f"jti-{service}-{at:%m%d}",
            pseudonymous_ids=pseudonymous_ids,
            accessed_at=at,
        )

    # December in Japan time: 30 minutes past midnight on the 1st is still 30 November in UTC.
    release(company_a, "Mobility", ids[:7], datetime.datetime(2026, 12, 1, 0, 30, tzinfo=japan))
    release(city_a, "City hub", ids[7:12], datetime.datetime(2026, 12, 1, 9, 0, tzinfo=japan))
    # November's releases are not December's.
    release(company_a, "Mobility", ids, datetime.datetime(2026, 11, 30, 23, 0, tzinfo=japan))

    assert services.indicators_compute(today=TODAY) == 2
    # Independently: 13 agreed, 3 withdrew; 7 + 5 records released in December.
    assert reached.measurements.get().value == Decimal("10.00")
    assert released.measurements.get().value == Decimal("12.00")

    # The register's releases per service and month: a count under 10 is never shown.
    rows = client.get(
        reverse("public:download", kwargs={"slug": "aizu", "key": "data-releases", "fmt": "json"})
    ).json()["rows"]
    by_month = {(row["month"], row["service"]): row["residents"] for row in rows}
    assert by_month == {
        ("2026-11", "Mobility"): 13,
        ("2026-12", "City hub"): None,
        ("2026-12", "Mobility"): None,
    }


def test_residents_reached_under_ten_and_no_release_this_month_have_no_value(
    clerk_a, consortium_a, purpose
):
    define(
        clerk_a,
        consortium_a,
        code="reached",
        source=Indicator.Source.RESIDENTS_REACHED,
        purpose=purpose,
    )
    define(clerk_a, consortium_a, code="released", source=Indicator.Source.DATA_RELEASES)
    for i in range(9):
        consent_services.consent_give(
            actor=None, resident=make_resident(f"n{i}@example.jp", consortium_a), purpose=purpose
        )
    assert services.indicators_compute(today=TODAY) == 0
    assert not Indicator.objects.filter(measurements__isnull=False).exists()


def test_computed_indicators_are_computed_every_day_by_the_task_cluster(
    clerk_a, consortium_a, purpose
):
    from django_q.models import Schedule

    from public import tasks

    schedule = Schedule.objects.get(func="public.tasks.indicators_compute")
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    indicator = define(
        clerk_a,
        consortium_a,
        code="reached",
        source=Indicator.Source.RESIDENTS_REACHED,
        purpose=purpose,
    )
    for i in range(10):
        consent_services.consent_give(
            actor=None, resident=make_resident(f"s{i}@example.jp", consortium_a), purpose=purpose
        )
    assert tasks.indicators_compute() == 1
    assert indicator.measurements.get().value == Decimal("10.00")
