"""
Fixtures shared by the whole suite: database set-up and the personas of style.md.

Personas: a secretariat clerk of consortium A, a reviewer of A, a reviewer of B, residents
(consent adds them), a service (grants adds it), and an anonymous visitor (the plain ``client``).
Each app's conftest may refine what a persona may do; the names stay.
"""

import copy
import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit import actions
from governance.models import Consortium, Organization

# The actions only tests write, and the payload fields they carry.
actions.declare(
    {
        "test.recorded": ["n", "label", "number"],
        "test.created": [],
        "test.changed": ["to"],
        "test.rewritten": [],
        "test.before": [],
        "test.after": [],
        "test.meanwhile": [],
        "test.appended": ["index"],
        "test.imported": ["n"],
        "test.forged": [],
    }
)


# --- The order of the run ----------------------------------------------------------------------
#
# pytest-xdist's workers each take a share of the list and then steal from each other's: the
# longest tests go first, so that no worker is left running one alone at the end while the
# others have finished. The longest are the browser and live-platform tests and these modules
# (the review's migration test, on PostgreSQL only, is the longest there).
# pytest-django then orders the list as Django does (tests in a transaction, then those that
# commit, then those without a database), keeping this order within each part.
LONG_MODULES = (
    "tests/grants/test_api_fuzz.py",
    "tests/test_printed_documents.py",
    "tests/review/test_migration.py",
)


@pytest.hookimpl(tryfirst=True)  # before pytest-django's, which is tryfirst too
def pytest_collection_modifyitems(config, items):
    def long(item) -> bool:
        return bool(
            item.get_closest_marker("browser")
            or item.get_closest_marker("live")
            or item.nodeid.startswith(LONG_MODULES)
        )

    items.sort(key=lambda item: not long(item))  # stable: the rest keep their order


# --- PostgreSQL with separate roles (README, "Production"; audit.roles) ------------------------
#
# The test databases are created and migrated by the owner (DATABASE_OWNER_URL); the tests run
# as the runtime role (DATABASE_URL), as the platform does. Between transactional tests the
# tables are emptied by the owner, with the append-only triggers lifted for that moment only.

OWNER_HELPER = "test_run_as_owner"


def _separated_roles() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"].endswith("postgresql")) and bool(
        settings.DATABASE_OWNER
    )


def _use_credentials(role: str) -> None:
    from django.db import connections

    connection = connections["default"]
    connection.close()
    if role == "owner":
        owner = settings.DATABASE_OWNER
        credentials = {"USER": owner["USER"], "PASSWORD": owner.get("PASSWORD", "")}
        connection.settings_dict.update(credentials)
    else:
        runtime = settings.DATABASE_RUNTIME_CREDENTIALS
        connection.settings_dict.update(runtime)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Create (and later drop) the test database as the owner."""
    if _separated_roles():
        _use_credentials("owner")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Once the owner has migrated the test database, run the tests as the runtime role."""
    if not _separated_roles():
        yield
        return
    from django.db import connections

    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        # A throw-away database: a commit need not wait for its WAL to reach the disk (the
        # transactional tests commit and empty the tables often). Only this test database's
        # sessions are changed, never a real one's.
        cursor.execute(
            "ALTER DATABASE "
            + connections["default"].ops.quote_name(connections["default"].settings_dict["NAME"])
            + " SET synchronous_commit TO off"
        )
        # An owner's door for tests that tamper with the log in their own transaction
        # (tests/audit/helpers.owner_sql): never created outside a test database.
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {OWNER_HELPER}(statement text) RETURNS void "
            "LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN EXECUTE statement; END $$; "
            f"REVOKE ALL ON FUNCTION {OWNER_HELPER}(text) FROM PUBLIC; "
            f"GRANT EXECUTE ON FUNCTION {OWNER_HELPER}(text) TO "
            + connections["default"].ops.quote_name(settings.DATABASE_RUNTIME_ROLE)
        )
    _use_credentials("runtime")
    yield
    _use_credentials("owner")


def _flush_as_owner(self, sql_list):
    """Empty the tables as the owner, the append-only triggers lifted for that moment only."""
    from audit.roles import TRIGGERS

    with self.connection.cursor() as cursor, transaction.atomic(using=self.connection.alias):
        statements = (
            [f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in TRIGGERS]
            + list(sql_list)
            + [f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in TRIGGERS]
        )
        for statement in statements:
            if _separated_roles():
                cursor.execute(f"SELECT {OWNER_HELPER}(%s)", [statement])
            else:  # the platform's role owns the tables (a development database)
                cursor.execute(statement)


@pytest.fixture(autouse=True, scope="session")
def _flush_through_the_owner():
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush
    DatabaseOperations.execute_sql_flush = _flush_as_owner
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True, scope="session")
def _one_redis_database_per_worker():
    """
    With REDIS_URL, give each pytest-xdist worker a Redis database of its own (the next numbers
    after the URL's): a test's ``cache.clear()`` empties the whole database, which wiped
    another worker's rate-limit counters in the middle of its test.
    """
    from django.test import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not settings.REDIS_URL or not worker.startswith("gw"):
        yield
        return
    url = urlsplit(settings.REDIS_URL)
    number = (int(url.path.strip("/") or 0) + 1 + int(worker[2:])) % 16
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = urlunsplit(url._replace(path=f"/{number}"))
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """
    Hash the personas' passwords with a cheap hasher: production's PBKDF2 costs about half a
    second of CPU per hash, and nearly every test makes users or signs one in. What is tested
    is who may sign in, not the hasher's cost (production keeps Django's default hashers).
    """
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """
    Start each test with an empty cache: a Redis database keeps what an earlier run left (rate
    counters, marks keyed by ids that a new test database gives out again), and on SQLite a
    rolled-back test gives its ids out again to the next.
    """
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_requester_notice_on_decision(settings):
    """
    Tasks run synchronously here, so the requester's decision notice would be built (a PDF,
    sealing the audit log) inside every test that runs a decision's commit callbacks; its own
    tests turn it on (tests/review/test_requester_letter.py).
    """
    settings.REVIEW_REQUESTER_LETTER_ON_DECISION = False


@pytest.fixture(autouse=True)
def _second_factor_where_tested(request, settings):
    """
    Staff pages ask for the second factor only in the tests about it (marked ``second_factor``):
    the others sign staff in with ``force_login`` to test what comes after signing in.
    """
    settings.STAFF_SECOND_FACTOR = request.node.get_closest_marker("second_factor") is not None


@pytest.fixture(autouse=True)
def _tasks_run_synchronously():
    """Run django-q2 tasks in the calling thread, so that their effects can be asserted."""
    from django_q.conf import Conf

    previous = Conf.SYNC
    Conf.SYNC = True
    yield
    Conf.SYNC = previous


@pytest.fixture(autouse=True)
def _checkpoint_signer_state(settings, tmp_path):
    """Each test's checkpoint signer keeps its record outside the database in a file of its own."""
    settings.AUDIT_CHECKPOINT_STATE = str(tmp_path / "audit-checkpoint.txt")
    return settings.AUDIT_CHECKPOINT_STATE


@pytest.fixture(autouse=True)
def _witness_key_file(settings, tmp_path):
    """Each test's platform, as a witness, has a cosigning key of its own; no witness set."""
    settings.AUDIT_WITNESS_KEY_FILE = str(tmp_path / "audit-witness.key")
    settings.AUDIT_WITNESSES = []
    settings.AUDIT_WITNESS_QUORUM = 0
    return settings.AUDIT_WITNESS_KEY_FILE


@pytest.fixture
def postgres_only(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, password="correct horse battery staple", **extra
    )


@pytest.fixture
def consortium_a(db) -> Consortium:
    return Consortium.objects.create(
        slug="aizu",
        name_ja="会津スマートシティ推進協議会",
        name_en="Aizu Smart City Council",
        secretariat_group=Group.objects.create(name="secretariat: aizu"),
    )


@pytest.fixture
def consortium_b(db) -> Consortium:
    return Consortium.objects.create(
        slug="kashiwa",
        name_ja="柏の葉スマートシティコンソーシアム",
        name_en="Kashiwa-no-ha Smart City Consortium",
        secretariat_group=Group.objects.create(name="secretariat: kashiwa"),
    )


@pytest.fixture
def city_a(db) -> Organization:
    return Organization.objects.create(
        kind=Organization.Kind.MUNICIPALITY, name_ja="会津若松市", name_en="Aizuwakamatsu City"
    )


@pytest.fixture
def company_a(db) -> Organization:
    return Organization.objects.create(
        kind=Organization.Kind.COMPANY, name_ja="会津モビリティ株式会社", name_en="Aizu Mobility"
    )


@pytest.fixture
def clerk_a(consortium_a):
    """A secretariat clerk of consortium A: staff, in A's secretariat group."""
    user = make_user("clerk_a", is_staff=True)
    user.groups.add(consortium_a.secretariat_group)
    return user


@pytest.fixture
def clerk_b(consortium_b):
    user = make_user("clerk_b", is_staff=True)
    user.groups.add(consortium_b.secretariat_group)
    return user


def seat_on_ethics_board(user, consortium, expertise: str = "legal"):
    """Give ``user`` an ethics-board member role in ``consortium`` (creating the board)."""
    import datetime

    from governance import services
    from governance.models import Role
    from review import services as review_services
    from review.models import EthicsBoard

    if not EthicsBoard.objects.filter(consortium=consortium).exists():
        review_services.ethics_board_set(
            actor=None,
            consortium=consortium,
            name_ja=f"{consortium.name_ja} データ倫理審査会",
            name_en=f"{consortium.name_en} Data Ethics Board",
        )
    services.role_assign(
        actor=None,
        consortium=consortium,
        kind=Role.Kind.ETHICS_BOARD_MEMBER,
        user=user,
        expertise=expertise,
        start_on=datetime.date(2024, 1, 1),
    )
    return user


@pytest.fixture
def reviewer_a(consortium_a):
    """An ethics-board member of consortium A (a legal expert, seated since 2024)."""
    return seat_on_ethics_board(make_user("reviewer_a"), consortium_a)


@pytest.fixture
def reviewer_b(consortium_b):
    """An ethics-board member of consortium B, who must see nothing of A."""
    return seat_on_ethics_board(make_user("reviewer_b"), consortium_b)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(
        username="root", password="correct horse battery staple"
    )


def approve_purpose(purpose, *, requester=None, valid_days: int = 3650, **approved):
    """
    Record an approval in force of the data-ethics board that covers ``purpose`` as it is now
    (a review ticket linked to it, decided a year ago for ``valid_days``), which a purpose
    needs before it opens or its notice changes (review.approvals). ``approved`` replaces what
    the ticket approves: ``categories``, ``recipients``, ``retention_days``, ``anonymisation``,
    ``third_party_provision``, ``state``. The ticket is stored directly: the review workflow
    that leads to it has tests of its own (tests/review).
    """
    import datetime

    from django.utils import timezone

    from review.models import ReviewTicket

    decided = timezone.now() - datetime.timedelta(days=365)
    categories = approved.pop("categories", None)
    recipients = approved.pop("recipients", None)
    if recipients is None:
        recipients = list(purpose.recipients.all())
    fields = {
        "state": ReviewTicket.State.APPROVED,
        "third_party_provision": bool(recipients),
        "retention_days": purpose.retention_days,
        "anonymisation": purpose.processing,
        "legal_basis": purpose.legal_basis,
        **approved,
    }
    ticket = ReviewTicket.objects.create(
        consortium=purpose.consortium,
        requester=requester or purpose.controller,
        title=f"{purpose.title_ja}の審査",
        service_name=purpose.title_ja,
        purpose=purpose,
        deletion_method="保存期間の終了後に消去",
        security_measures="暗号化とアクセス制御",
        anonymisation_details="" if fields["anonymisation"] == "none" else "仮名化",
        round=1,
        decided_at=decided,
        valid_from=timezone.localdate(decided),
        valid_until=timezone.localdate(decided) + datetime.timedelta(days=valid_days),
        **fields,
    )
    ticket.categories.set(purpose.categories.all() if categories is None else categories)
    ticket.recipients.set(recipients)
    return ticket
