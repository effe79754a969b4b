"""
The walk's C accelerator (audit/_walk.c) gives the verdict of the Python walk, which it only
ever confirms: on logs with and without each kind of fault, on SQLite and PostgreSQL, and its
canonical text and hashes are chain.entry_text's and hashlib's for any strings.
"""

import datetime
import hashlib
import os

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit import chain, merkle, selectors, services, verification
from audit.models import Entry
from audit.selectors import ChainRow, canonical_time

from .helpers import build_chain, raw_sql

requires_accelerator = pytest.mark.skipif(
    verification._accelerator is None,
    reason="the C accelerator audit._walk is not built (no compiler or no OpenSSL headers: "
    "libssl-dev); the verifier walks in Python",
)


def test_the_accelerator_is_built_where_it_is_required():
    """CI sets AUDIT_REQUIRE_ACCELERATOR=1: an accelerator that failed to build fails here."""
    if os.environ.get("AUDIT_REQUIRE_ACCELERATOR") != "1":
        pytest.skip("AUDIT_REQUIRE_ACCELERATOR is not 1: the accelerator is optional here")
    assert verification._accelerator is not None, "audit._walk did not build or import"


class _Spy:
    """The accelerator, counting the batches it confirmed and those it left to Python."""

    def __init__(self, module) -> None:
        self.module = module
        self.confirmed = self.declined = 0

    def walk_batch(self, *args):
        walked = self.module.walk_batch(*args)
        if walked is None:
            self.declined += 1
        else:
            self.confirmed += 1
        return walked


@pytest.fixture
def spy(monkeypatch):
    """Walk in batches of 100 entries and spy on the accelerator."""
    monkeypatch.setattr(selectors, "READ_CHUNK", 100)
    spy = _Spy(verification._accelerator)
    monkeypatch.setattr(verification, "_accelerator", spy)
    return spy


def _log() -> None:
    """600 entries with a checkpoint inside a batch and a partial tile: every path of the walk."""
    build_chain(250)
    services.checkpoint_create()
    build_chain(350)
    services.seal()


def _tamper(fault: str) -> None:
    with raw_sql() as cursor:
        if fault == "hash_mismatch":
            cursor.execute("UPDATE audit_entry SET payload = %s WHERE seq = 300", ['{"n":3}'])
        elif fault == "gap":
            cursor.execute("DELETE FROM audit_entry WHERE seq = 300")
        elif fault == "broken_link":
            cursor.execute("UPDATE audit_entry SET prev_hash = %s WHERE seq = 300", ["f" * 64])
        elif fault == "far_time":  # beyond year 9999: ISO text the C walk does not read
            cursor.execute(
                "UPDATE audit_entry SET time = %s WHERE seq = 300",
                [
                    "12000-01-01 00:00:00+00"
                    if cursor.db.vendor == "postgresql"
                    else "12000-01-01 00:00:00"
                ],
            )
        elif fault == "time_backwards":
            earlier = Entry.objects.get(seq=299).time - datetime.timedelta(seconds=1)
            cursor.execute(
                "UPDATE audit_entry SET time = %s WHERE seq = 300",
                [Entry._meta.get_field("time").get_db_prep_save(earlier, cursor.db)],
            )


@requires_accelerator
@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault, kind",
    [
        (None, None),
        ("hash_mismatch", "hash_mismatch"),
        ("gap", "gap"),
        ("broken_link", "broken_link"),
        ("time_backwards", "time_backwards"),
        ("far_time", "hash_mismatch"),
    ],
)
def test_the_accelerated_walk_gives_the_python_walks_verdict(fault, kind, spy, settings):
    _log()
    _tamper(fault)

    reported = []
    accelerated = verification.verify_chain(progress=reported.append)
    settings.AUDIT_VERIFY_ACCELERATED = False
    confirmed, declined = spy.confirmed, spy.declined
    python = verification.verify_chain()

    assert accelerated.as_dict() == python.as_dict()
    assert (spy.confirmed, spy.declined) == (confirmed, declined)  # off: not called at all
    assert accelerated.ok is (fault is None)
    # Each entry counted once, also where the walk started again on the canonical time text.
    assert sum(reported) == accelerated.entries
    if fault is None:
        assert (confirmed, declined) == (7, 0)  # 601 entries in batches of 100
        assert accelerated.checkpoints == 1 and accelerated.tree_root != merkle.EMPTY_ROOT.hex()
    else:
        # The batch of entry 300 was walked again in Python, which named the fault there.
        assert declined >= 1 and confirmed >= 2
        assert (300, kind) in {(p.seq, p.kind) for p in accelerated.problems}


@requires_accelerator
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_the_parallel_walk_is_accelerated_in_every_process(spy, settings, monkeypatch):
    settings.AUDIT_VERIFY_WORKERS = 2
    monkeypatch.setattr(verification, "PARALLEL_MIN_ENTRIES", 1)
    _log()

    accelerated = verification.verify_chain()
    settings.AUDIT_VERIFY_ACCELERATED = False
    python = verification.verify_chain(workers=1)

    assert accelerated.ok and accelerated.as_dict() == python.as_dict()
    assert spy.confirmed >= 1  # this process's run (the other's is counted in its own process)


# Text as the columns may hold it: controls, quotes, backslashes, non-ASCII, astral characters
# (not lone surrogates, which no database column holds: a test below has them).
texts = st.text(
    alphabet=st.one_of(
        st.sampled_from('"\\\n\r\t\b\f\x00\x1f\x7f/'),
        st.characters(codec="utf-8"),
        st.characters(max_codepoint=0x7F),
    ),
    max_size=40,
)


def _row(fields: dict, digest: str) -> tuple:
    return (
        fields["seq"],
        fields["time"],
        fields["actor_type"],
        fields["actor_id"],
        fields["action"],
        fields["object_type"],
        fields["object_id"],
        fields["consortium_id"],
        fields["payload"],
        fields["prev_hash"],
        digest,
    )


entry_fields = st.fixed_dictionaries(
    {
        "seq": st.integers(min_value=-(2**63), max_value=2**63 - 2),
        "time": texts,
        "actor_type": texts,
        "actor_id": texts,
        "action": texts,
        "object_type": texts,
        "object_id": texts,
        "consortium_id": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
        "payload": texts,
        "prev_hash": texts,
    }
)


@requires_accelerator
@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(fields=entry_fields)
def test_the_c_text_and_hashes_are_chain_entry_text_and_hashlibs(fields):
    accelerator = verification._accelerator
    text = chain.entry_text(**fields).encode()
    digest = hashlib.sha256(text).hexdigest()
    row = _row(fields, digest)

    assert accelerator.entry_text(row) == text
    walked = accelerator.walk_batch([row], fields["seq"], fields["prev_hash"], "", b"", 0, (1,))
    assert walked is not None
    expected_seq, prev_hash, prev_time, leaves, digests, roots, met = walked
    assert (expected_seq, prev_hash, prev_time) == (fields["seq"] + 1, digest, fields["time"])
    assert leaves == merkle.leaf_hash(text)
    assert met == [(1, digest, leaves)] and digests == roots == []
    # Any other hash, and the batch is left to the Python walk.
    other = hashlib.sha256(text + b" ").hexdigest()
    assert (
        accelerator.walk_batch(
            [_row(fields, other)], fields["seq"], fields["prev_hash"], "", b"", 0, ()
        )
        is None
    )


@requires_accelerator
def test_a_full_tile_gives_merkles_tile_root_and_digest():
    rows, prev = [], chain.GENESIS_HASH
    for seq in range(1, 301):
        fields = {
            "seq": seq,
            "time": f"2026-01-01T00:00:{seq // 60:02d}.{seq:06d}Z",
            "actor_type": "resident",
            "actor_id": f"r{seq}\u00e9\U0001f600",
            "action": "test.recorded",
            "object_type": "test.thing",
            "object_id": str(seq),
            "consortium_id": seq % 3 or None,
            "payload": f'{{"number":{seq}}}',
            "prev_hash": prev,
        }
        prev = chain.entry_hash(**fields)
        rows.append(_row(fields, prev))
    leaves = [
        merkle.leaf_hash(chain.entry_text(**dict(zip(_KEYS, row, strict=False))).encode())
        for row in rows
    ]

    walked = verification._accelerator.walk_batch(
        rows[:100], 1, chain.GENESIS_HASH, "", b"", 0, (50, 100, 400)
    )
    _, prev_hash, prev_time, partial, _, _, met = walked
    walked = verification._accelerator.walk_batch(
        rows[100:], 101, prev_hash, prev_time, partial, 100, (256, 260)
    )
    expected_seq, prev_hash, _, partial, digests, roots, met2 = walked

    assert (expected_seq, prev_hash) == (301, rows[-1][10])
    assert digests == [hashlib.sha256(b"".join(leaves[:256])).digest()]
    assert roots == [merkle.perfect_root(leaves[:256])]
    assert partial == b"".join(leaves[256:])
    assert [size for size, _, _ in met + met2] == [50, 100, 256, 260]
    assert met2[0][2] == b"" and met2[1][2] == b"".join(leaves[256:260])


# The fields chain.entry_text takes, in the order of a row of the walk (its hash last).
_KEYS = ChainRow._fields[:-1]


def _one_row(**changes) -> tuple:
    fields = {
        "seq": 1,
        "time": "2026-01-01T00:00:00.000000Z",
        "actor_type": "system",
        "actor_id": "",
        "action": "test.recorded",
        "object_type": "",
        "object_id": "",
        "consortium_id": None,
        "payload": "{}",
        "prev_hash": chain.GENESIS_HASH,
    }
    fields.update(changes)
    return _row(fields, "0" * 64)


@requires_accelerator
@pytest.mark.parametrize(
    "row",
    [
        _one_row(actor_id="\ud800"),  # a lone surrogate: no UTF-8 for it
        _one_row(seq=True),  # not exactly an int
        _one_row(seq=2**64),  # beyond 64 bits
        _one_row(consortium_id=2**70),
        _one_row(payload=b"{}"),
        _one_row()[:10],  # a field short
        list(_one_row()),  # not a tuple
    ],
)
def test_a_row_the_c_walk_does_not_expect_is_left_to_python(row):
    assert (
        verification._accelerator.walk_batch([row], 1, chain.GENESIS_HASH, "", b"", 0, ()) is None
    )
    assert verification._accelerator.entry_text(row) is None


@requires_accelerator
def test_a_surrogate_is_named_by_the_python_walk_as_without_the_accelerator(settings):
    row = _one_row(actor_id="\ud800")
    walk = dict(
        position=0,
        expected_seq=1,
        prev_hash=chain.GENESIS_HASH,
        prev_time="",
        wanted=set(),
        note=print,
    )

    with pytest.raises(UnicodeEncodeError):
        verification._walk([[row]], **walk)
    settings.AUDIT_VERIFY_ACCELERATED = False
    with pytest.raises(UnicodeEncodeError):
        verification._walk([[row]], **walk)


@pytest.mark.django_db
@pytest.mark.usefixtures("postgres_only")
@hypothesis_settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moments=st.lists(
        st.datetimes(
            min_value=datetime.datetime(1, 1, 1),
            max_value=datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
            timezones=st.just(datetime.UTC),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_iso_time_text_becomes_the_canonical_one(moments):
    """What the C walk reads on PostgreSQL (selectors.ISO_TIME_SQL) gives time_sql's text."""
    from django.db import connection

    moments += [
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),  # no fraction at all
        datetime.datetime(2026, 1, 1, 0, 0, 0, 120000, tzinfo=datetime.UTC),  # trailing zeros
        datetime.datetime(999, 1, 1, tzinfo=datetime.UTC),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selectors.ISO_TIME_SQL}, {selectors.time_sql()} "
            "FROM unnest(%s::timestamptz[]) AS moments(time)",
            [moments],
        )
        pairs = cursor.fetchall()

    for iso, canonical in pairs:
        assert canonical_time(iso) == canonical
        if verification._accelerator is not None:
            row = _one_row(time=iso)
            walked = verification._accelerator.walk_batch(
                [row[:10] + (hashlib.sha256(_text(row, canonical)).hexdigest(),)],
                1, chain.GENESIS_HASH, "", b"", 0, (), True,
            )  # fmt: skip
            assert walked is not None and walked[2] == canonical


@pytest.mark.parametrize(
    "iso",
    ["12000-01-01 00:00:00", "0001-01-01 00:00:00 BC", "infinity", "2026-01-01 00:00:00.", ""],
)
def test_other_time_text_is_not_read_as_iso(iso):
    assert canonical_time(iso) is None
    if verification._accelerator is not None:
        row = _one_row(time=iso)
        assert (
            verification._accelerator.walk_batch([row], 1, chain.GENESIS_HASH, "", b"", 0, (), True)
            is None
        )


def _text(row: tuple, time: str) -> bytes:
    fields = dict(zip(_KEYS, row, strict=False))
    fields["time"] = time
    return chain.entry_text(**fields).encode()
