"""
One catalogue for the whole site: Django merges the apps' translations into one per language,
the root ``locale/`` first, then the apps in INSTALLED_APPS order. A message without a context
that two apps translate differently therefore reads, in the app that loses, in the other app's
words. Every (context, message) pair must mean one thing across the catalogues.
"""

import re
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, pgettext

from participation import services as participation
from tests.consent.conftest import as_resident, make_resident

ROOT = Path(__file__).resolve().parents[1]
APPS = [".", "audit", "governance", "consent", "review", "grants", "participation", "public"]


def collisions(language: str) -> list[str]:
    """Return a line for each message that two catalogues of ``language`` translate apart."""
    translations: dict[tuple[str | None, str], dict[str, list[str]]] = {}
    for app in APPS:
        path = ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po"
        if not path.exists():
            continue
        for entry in polib.pofile(str(path)):
            if entry.obsolete or not entry.msgstr or entry.fuzzy:  # fuzzy: not compiled
                continue
            where = translations.setdefault((entry.msgctxt, entry.msgid), {})
            where.setdefault(entry.msgstr, []).append("root" if app == "." else app)
    return [
        f"{language} {context or ''}|{msgid}: "
        + "; ".join(f"{msgstr!r} in {', '.join(apps)}" for msgstr, apps in found.items())
        for (context, msgid), found in sorted(translations.items(), key=lambda item: item[0][1])
        if len(found) > 1
    ]


@pytest.mark.parametrize("language", ["ja", "ja_Easy", "en"])
def test_no_message_is_translated_two_ways_across_the_apps(language):
    found = collisions(language)
    assert not found, "give one side a context (pgettext) or one wording:\n" + "\n".join(found)


@pytest.mark.parametrize("language,code", [("ja", "ja"), ("ja_Easy", "ja-easy"), ("en", "en")])
def test_every_app_reads_in_its_own_words_at_run_time(language, code):
    """Nor may the catalogues Django merges in besides ours (its own, the admin's, auth's)."""
    replaced = []
    with translation.override(code):
        for app in APPS:
            path = ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po"
            if not path.exists():
                continue
            for entry in polib.pofile(str(path)):
                if entry.obsolete or not entry.msgstr or entry.fuzzy or entry.msgid_plural:
                    continue
                if entry.msgctxt:
                    shown = pgettext(entry.msgctxt, entry.msgid)
                else:
                    shown = gettext(entry.msgid)
                if shown != entry.msgstr:
                    replaced.append(f"{app}: {entry.msgid!r} reads {shown!r}, not {entry.msgstr!r}")
    assert not replaced, "\n".join(replaced)


def label_of(page: str, field: str) -> str:
    return re.search(rf'<label[^>]*for="id_{field}"[^>]*>([^<]*)</label>', page).group(1)


@pytest.mark.django_db
def test_the_pdca_reviews_decision_reads_as_a_decision_in_japanese(superuser):
    client = Client()
    client.force_login(superuser)
    page = client.get(reverse("admin:public_pdcareview_add")).content.decode()
    assert label_of(page, "decision").startswith("決定")
    assert label_of(page, "done").startswith("実施内容")


@pytest.mark.django_db
def test_a_declined_proposal_reads_as_not_adopted_on_the_register(client, consortium_a, clerk_a):
    resident = make_resident("hanako@example.jp", consortium_a, name="会津 花子")
    proposal = participation.proposal_submit(
        actor=as_resident(resident),
        consortium=consortium_a,
        author=resident,
        kind="sensor",
        title="駅前に混雑センサーを",
        body="朝の駅前の混雑を測ってください。",
    )
    participation.proposal_answer(
        actor=clerk_a, proposal=proposal, outcome="declined", reasons_ja="予算がありません。"
    )
    page = reverse("public:proposals", kwargs={"slug": consortium_a.slug, "lang": "ja"})
    shown = client.get(page).content.decode()
    assert "駅前に混雑センサーを" in shown
    assert "不採用" in shown and "不同意" not in shown


@pytest.mark.django_db
def test_a_consultation_on_the_register_reads_in_easy_japanese(client, consortium_a, clerk_a):
    from tests.participation.conftest import make_consultation

    consultation = make_consultation(consortium_a, clerk_a)
    page = client.get(
        f"/ja-easy/register/{consortium_a.slug}/consultations/{consultation.pk}/"
    ).content.decode()
    # Not the participation app's ordinary Japanese for the same English words.
    assert "いけんを きく こと" in page and "意見募集の対象" not in page
    assert "いまの ようす" in page
