"""
Each action declares the payload fields it may carry, and ``record`` refuses anything else and
any value that looks like an e-mail address or a telephone number.
"""

import ast
import re
from pathlib import Path

import pytest

from audit import actions, chain, services
from audit.models import Entry, PendingEntry
from consent.models import ConsentRecord

ROOT = Path(__file__).resolve().parents[2]
APPS = ["audit", "governance", "consent", "review", "grants", "participation"]


def _written_actions() -> dict[str, set[str]]:
    """
    Return every action the platform's code writes with the payload fields it gives: each
    ``action="..."`` (or either branch of a conditional) in a call, with the keys of a payload
    written as a dict literal in the same call.
    """
    found: dict[str, set[str]] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                values = [keywords["action"]] if "action" in keywords else []
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "EntrySpec" and node.args:
                    values.append(node.args[0])
                names: list[str] = []
                while values:
                    value = values.pop()
                    if isinstance(value, ast.IfExp):
                        values += [value.body, value.orelse]
                    elif isinstance(value, ast.Constant) and isinstance(value.value, str):
                        names.append(value.value)
                payload = keywords.get("payload")
                keys = (
                    {k.value for k in payload.keys if isinstance(k, ast.Constant)}
                    if isinstance(payload, ast.Dict)
                    else set()
                )
                for action in names:
                    if chain.ACTION_RE.match(action):
                        found.setdefault(action, set()).update(keys)
    # Built from a value: f"consent.{decision}" (consent.services._decide, consent.demo).
    for decision in ConsentRecord.Decision.values:
        found.setdefault(f"consent.{decision}", set())
    return found


def test_every_action_the_platform_writes_is_declared_with_its_fields():
    written = _written_actions()
    assert len(written) > 80  # the walk found the platform's calls
    declared = actions.declared()
    for action, fields in sorted(written.items()):
        assert action in declared, f"{action} is written but not declared"
        assert fields <= declared[action], f"{action} writes undeclared {fields - declared[action]}"
    for action in ["witness.inconsistency", "witness.log_added", "witness.log_changed"]:
        assert action in declared


def test_the_witness_actions_carry_ids_and_facts():
    declared = actions.declared()
    assert declared["witness.inconsistency"] == {"origin", "size", "cosigned_size", "fault"}
    assert declared["witness.log_added"] == declared["witness.log_changed"] == {"origin", "active"}


@pytest.mark.django_db
def test_an_undeclared_action_or_field_is_refused_and_a_declared_one_recorded():
    with pytest.raises(actions.UndeclaredAction, match="not declared"):
        services.record(actor=None, action="resident.renamed", payload={})
    with pytest.raises(actions.UndeclaredAction, match="reason"):
        services.record(actor=None, action="test.changed", payload={"to": "b", "reason": "x"})
    with pytest.raises(actions.UndeclaredAction):
        services.record_many([services.EntrySpec(action="nobody.declared")])
    assert not PendingEntry.objects.exists()

    services.record(actor=None, action="test.changed", payload={"to": "b"})
    services.seal()
    assert Entry.objects.get().data == {"to": "b"}


CONTACTS = [
    "taro@example.jp",
    "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",  # full-width
    "mail me at hanako.yamada+x@city.aizu.lg.jp please",
    "090-1234-5678",
    "09012345678",
    "03-1234-5678",
    "0242-12-3456",
    "(03) 1234-5678",
    "０９０－１２３４－５６７８",  # full-width digits and hyphen
    "０３ー１２３４ー５６７８",  # the prolonged sound mark people type as a dash
    "+81 90-1234-5678",
    "+81312345678",
    "＋８１ ３ １２３４ ５６７８",
    "0120-123-456",
    "call 050 1234 5678 after six",
]

NOT_CONTACTS = [
    "2026-12-02T10:00:00.000000Z",
    "2027-03-31",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "0123456789abcdef0123456789abcdef",
    "5f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f",
    "1234567890123",  # a corporate number
    "R-2026-0042",
    "consent.given",
    "grants.issuancerule:1",
    "12345",
]


@pytest.mark.django_db
@pytest.mark.parametrize("value", CONTACTS)
def test_a_contact_anywhere_in_an_entry_is_refused(value):
    for entry in [
        {"payload": {"to": value}},
        {"payload": {"to": {"nested": [1, value]}}},
        {"object_id": value},
        {"object_type": value},
    ]:
        with pytest.raises(chain.PayloadError, match="ids only"):
            services.record(actor=None, action="test.changed", **entry)
    with pytest.raises(chain.PayloadError, match="ids only"):
        services.record(actor=services.Actor.resident(value), action="test.created")
    with pytest.raises(chain.PayloadError, match="ids only"):
        services.record_many([services.EntrySpec(action="test.changed", payload={"to": value})])
    assert not PendingEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", NOT_CONTACTS)
def test_ids_times_and_hashes_are_not_mistaken_for_contacts(value):
    services.record(actor=None, action="test.changed", object_id=value, payload={"to": value})
    assert PendingEntry.objects.get().data == {"to": value}


def test_every_declared_action_has_a_label_in_english_and_japanese():
    import importlib

    from django.apps import apps
    from django.utils import translation

    declared = {}
    for config in apps.get_app_configs():
        if (Path(config.path) / "audit_actions.py").exists():
            declared.update(importlib.import_module(f"{config.name}.audit_actions").ACTIONS)
    assert len(declared) > 130  # every app's declarations were found
    assert not set(declared) & set(actions.unlabelled())
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for action in sorted(declared):
        with translation.override("en"):
            english = str(actions.label(action))
        with translation.override("ja"):
            in_japanese = str(actions.label(action))
        assert english and english != action, f"{action} has no label"
        assert japanese.search(in_japanese), f"{action}'s label {english!r} is not in Japanese"
    # An entry of an action no app declares any more still reads as its code.
    assert actions.label("resident.renamed") == "resident.renamed"


def test_a_label_for_an_action_not_declared_beside_it_is_refused():
    with pytest.raises(ValueError, match="not declared"):
        actions.declare({}, {"resident.renamed": "Resident renamed"})
