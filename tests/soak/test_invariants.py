"""The soak's invariant checker: each check passes a sound run and names what a broken one lost."""

from collections import Counter

from bench.soak import invariants
from bench.soak.faults import Window


def consent(resident="r1", purpose=1, decision="given", t=100.0):
    return {
        "fact": "consent",
        "resident": resident,
        "purpose": purpose,
        "decision": decision,
        "t": t,
    }


def test_a_consent_decision_seen_and_stored_passes():
    history = {("r1", 1): [(99.0, "given")], ("r2", 1): [(50.0, "given"), (98.0, "withdrawn")]}

    result = invariants.missing_consents([consent(), consent("r2", decision="withdrawn")], history)

    assert result.ok and result.checked == 2


def test_a_missing_consent_record_is_reported():
    result = invariants.missing_consents([consent("r9", purpose=3)], {})

    assert result.violations == ["resident r9 purpose 3: saw given, stored nothing"]


def test_a_decision_stored_as_the_other_one_is_reported():
    # The resident saw the withdrawal recorded; the latest record before then is a consent.
    history = {("r1", 1): [(90.0, "given"), (120.0, "withdrawn")]}

    result = invariants.missing_consents([consent(decision="withdrawn", t=100.0)], history)

    assert result.violations == ["resident r1 purpose 1: saw withdrawn, stored given"]


def test_a_repeated_decision_needs_no_second_record():
    history = {("r1", 1): [(90.0, "given")]}

    result = invariants.missing_consents([consent(t=95.0), consent(t=99.0)], history)

    assert result.ok


def test_a_missing_vote_is_reported():
    seen = [{"ticket": 4, "reviewer": "ethics-legal"}, {"ticket": 4, "reviewer": "ethics-data"}]

    result = invariants.missing_votes(seen, {(4, "ethics-legal")})

    assert result.violations == ["ticket 4: ethics-data's vote"]


def test_a_ticket_voted_by_the_whole_board_but_not_approved_is_reported():
    seen = [{"ticket": 7, "reviewer": name} for name in ("a", "b", "c")]
    seen.append({"ticket": 8, "reviewer": "a"})

    result = invariants.undecided(seen, {7: "in_review", 8: "in_review"}, board_size=3)

    assert result.checked == 1
    assert result.violations == ["ticket 7 is in_review"]
    assert invariants.undecided(seen, {7: "approved"}, board_size=3).ok


def test_an_approval_without_a_grant_or_with_two_is_reported():
    result = invariants.approvals_without_one_grant([1, 2, 3], Counter({1: 1, 3: 2}))

    assert result.violations == ["ticket 2: 0 grants", "ticket 3: 2 grants"]


def test_a_missing_access_batch_is_reported():
    seen = [{"sha256": "a" * 64}, {"sha256": "b" * 64}]

    result = invariants.missing_batches(seen, {"a" * 64})

    assert result.violations == ["batch " + "b" * 16]


def test_reports_missing_or_stuck_are_reported_and_a_retrying_one_is_not():
    seen = [{"report": 1}, {"report": 2}]
    states = {1: ("done", 500.0), 3: ("running", 30.0), 4: ("queued", 4000.0), 5: ("failed", 9.0)}

    exists, finished = invariants.reports_not_finished(seen, states, retry_horizon=1980)

    assert exists.violations == ["report 2"]
    assert finished.violations == ["report 4 queued for 4000 s"]


def test_an_event_neither_delivered_nor_retried_is_reported():
    events = [
        {"id": "notice 1", "delivered": True, "retrying": False},
        {"id": "notice 2", "delivered": False, "retrying": True},
        {"id": "notice 3", "delivered": False, "retrying": False},
    ]

    assert invariants.events_not_delivered(events).violations == [
        "notice 3 neither delivered nor retried"
    ]


def test_a_withdrawal_of_released_data_without_a_notice_is_reported():
    def withdrawal(resident, released=True, after_given=True):
        return consent(resident, decision="withdrawn") | {
            "released": released,
            "after_given": after_given,
        }

    seen = [
        withdrawal("r1"),
        withdrawal("r2"),
        withdrawal("r2"),  # withdrew twice, a consent given between: two notices due
        withdrawal("r3", released=False),  # no service had their data
        withdrawal("r4", after_given=False),  # withdrew again: nothing new to notify
        # Declined twice in a row: the second found the first's record, one withdrawal.
        withdrawal("r5") | {"record": 1700000000.5},
        withdrawal("r5") | {"record": 1700000000.5},
    ]

    result = invariants.withdrawals_without_notice(
        seen, Counter({("r1", 1): 1, ("r2", 1): 1, ("r5", 1): 1})
    )

    assert result.checked == 4
    assert result.violations == ["resident r2 purpose 1: 2 withdrawals, 1 notices"]


def test_a_failed_audit_verification_or_a_late_pending_entry_is_reported():
    assert invariants.audit_log(True, "ok", 0).ok
    failed = invariants.audit_log(False, "checking...\nchain broken at entry 12\n", 3)

    assert failed.violations == [
        "audit_verify: chain broken at entry 12",
        "3 entries pending beyond the limit",
    ]


def request(status, t=100.0, ms=50.0, kind="api.check"):
    return {"k": kind, "t": t, "ms": ms, "s": status, "e": "" if status < 400 else "Error"}


def test_a_5xx_outside_the_fault_windows_is_reported():
    window = Window(fault="postgres", start=200.0, injected=201.0, recovered=203.0)

    result = invariants.server_errors(
        [request(200), request(503, t=100.0), request(0, t=150.0)], [window]
    )

    assert result.violations == [
        "api.check at 100.0: 503 outside the fault windows",
        "api.check at 150.0: no answer outside the fault windows",
    ]


def test_inside_a_window_only_the_documented_503_and_lost_connections_pass():
    window = Window(fault="postgres", start=200.0, injected=201.0, recovered=203.0)
    # The last from before the fault but still running when it came.
    requests = [request(503, t=202.0), request(0, t=204.0), request(500, t=199.9, ms=500)]

    result = invariants.server_errors(requests, [window])

    assert result.violations == ["api.check at 199.9: 500 in a fault window"]


def test_the_log_is_split_into_requests_and_facts(tmp_path):
    log = tmp_path / "requests.jsonl"
    log.write_text(
        '{"k":"portal.decide","t":1.0,"ms":5,"s":302,"e":""}\n'
        '{"fact":"consent","t":1.1,"resident":"r","purpose":1,"decision":"given"}\n\n'
    )

    requests, facts = invariants.read_log(log)

    assert [entry["k"] for entry in requests] == ["portal.decide"]
    assert invariants.of_kind(facts, "consent")[0]["resident"] == "r"
