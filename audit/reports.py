"""
The report machinery: a registry of report kinds, and PDF rendering with weasyprint.

The audit app owns the machinery and imports no other app. Each app defines its reports from
its own data and registers them from its ``AppConfig.ready``::

    audit.reports.register(ReportKind(kind="governance.minutes", ...))

A kind says who may see its reports (``consortia_for``: the consortium ids a user may see, or
``ALL``; and, where a report is about one record, ``can_access``: whether the user may see that
record), offers a parameter form, and builds a ``Document``: a template, its context and the
files to attach inside the PDF.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# The Japanese font of the PDF reports (Debian package fonts-ipaexfont-gothic, installed by
# scripts/system-packages.sh); embedded through @font-face, so every reader shows the same glyphs.
FONT_PATH = Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")
FONT_FAMILY = "IPAexGothic"


class _All:
    """Marker: every consortium (and reports tied to none)."""

    def __repr__(self) -> str:
        return "ALL"


ALL = _All()


class ReportError(Exception):
    """A report cannot be built; the message (already translated) is shown to the user."""


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (an ``/EmbeddedFile``), e.g. the raw rows a table sums up."""

    filename: str
    path: Path
    description: str = ""


@dataclass
class Document:
    """What a kind's builder returns: the template to render, its context, the attachments."""

    template: str
    context: dict
    title: str
    attachments: list[Attachment] = field(default_factory=list)


Progress = Callable[[int], None]


class ReportParametersForm(forms.Form):
    """Base of every kind's parameter form: the report's language, and the requesting user."""

    # Documents are written in Japanese or English (Easy Japanese is for the portal's pages).
    language = forms.ChoiceField(
        label=_("language of the report"),
        choices=[(code, name) for code, name in settings.LANGUAGES if code in ("ja", "en")],
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.is_bound:
            self.fields["language"].initial = (get_language() or "ja")[:2]

    def parameters(self) -> tuple[dict, int | None]:
        """Return (JSON parameters, consortium id or None) from the cleaned data."""
        raise NotImplementedError


@dataclass(frozen=True)
class ReportKind:
    """
    One kind of report.

    - ``consortia_for(user)``: the consortium ids whose reports of this kind ``user`` may request
      and download, or ``ALL``; an empty list for nobody.
    - ``form_class``: a form taking ``user=`` whose ``parameters()`` returns
      ``(parameters, consortium_id)`` once valid; parameters are JSON (ids, dates as text).
    - ``build(report, progress, workdir)``: return the Document; ``progress(percent)`` reports
      how far it got (0-90; rendering takes the rest); large files go into ``workdir``.
    - ``can_access(user, parameters, consortium_id)`` (optional): for a report about one record
      (a ticket, say), return True only if ``user`` may see that record. Asked after
      ``consortia_for``, on every request, download and listing: a report says what its record
      says, so only those who may read the record may hold the report.
    """

    kind: str
    label: str | Promise
    consortia_for: Callable[[object], Iterable[int] | _All]
    form_class: type[forms.Form]
    build: Callable[..., Document]
    can_access: Callable[[object, dict, int | None], bool] | None = None
    # What one report of this kind covers, in words, from its parameters (the assembly's title,
    # the period): shown in the report lists. Answer "" for a record that no longer exists.
    describe: Callable[[dict], str] | None = None


_registry: dict[str, ReportKind] = {}
# The consortia's names by id, given by the app that keeps them (audit imports no other app).
_consortium_names: Callable[[Iterable[int]], dict[int, str]] | None = None


def set_consortium_names(provider: Callable[[Iterable[int]], dict[int, str]]) -> None:
    """Let the app that keeps the consortia name them in reports and report lists."""
    global _consortium_names
    _consortium_names = provider


def consortium_names(ids: Iterable[int]) -> dict[int, str]:
    """Return each consortium's name in the active language (its id where none is known)."""
    ids = [i for i in ids if i is not None]
    named = _consortium_names(ids) if _consortium_names and ids else {}
    return {i: named.get(i) or str(i) for i in ids}


def describe(kind: str, parameters: dict) -> str:
    """Return what a report of ``kind`` with ``parameters`` covers, in words ("" if unknown)."""
    found = _registry.get(kind)
    if found is None or found.describe is None:
        return ""
    try:
        return found.describe(parameters or {})
    except (KeyError, TypeError, ValueError):
        return ""


def register(kind: ReportKind) -> None:
    """Make ``kind`` available; registering the same kind again replaces it (reloads, tests)."""
    _registry[kind.kind] = kind


def get(kind: str) -> ReportKind:
    try:
        return _registry[kind]
    except KeyError:
        raise ReportError(f"unknown report kind {kind!r}") from None


def kind_label(kind: str) -> str:
    """Return the report kind's name in words (the code itself for a kind no app registers)."""
    found = _registry.get(kind)
    return str(found.label) if found else kind


def kinds() -> list[ReportKind]:
    return sorted(_registry.values(), key=lambda k: k.kind)


def can_access(user, kind: str, consortium_id: int | None, *, parameters: dict) -> bool:
    """
    Return True when ``user`` may request or download a report of ``kind`` with these
    parameters for that consortium id: the kind's consortia, then its record check.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if kind not in _registry:
        return False
    report_kind = _registry[kind]
    allowed = report_kind.consortia_for(user)
    if allowed is not ALL and (consortium_id is None or consortium_id not in set(allowed)):
        return False
    if report_kind.can_access is None:
        return True
    return bool(report_kind.can_access(user, parameters or {}, consortium_id))


def visible(user, queryset: QuerySet) -> QuerySet:
    """
    Narrow ``queryset`` (of Report) to the reports ``user`` may see: each kind's consortia
    (in the database), then, for kinds about one record, the kind's record check on each.
    """
    queryset = queryset.filter(visible_filter(user))
    checked = {name: kind for name, kind in _registry.items() if kind.can_access is not None}
    if not checked:
        return queryset
    verdicts: dict[tuple, bool] = {}
    hidden = []
    rows = queryset.filter(kind__in=checked).values_list(
        "pk", "kind", "parameters", "consortium_id"
    )
    for pk, kind, parameters, consortium_id in rows:
        # Many reports share a record (a letter asked for twice, in two languages): ask once.
        key = (kind, json.dumps(parameters, sort_keys=True), consortium_id)
        if key not in verdicts:
            verdicts[key] = bool(checked[kind].can_access(user, parameters or {}, consortium_id))
        if not verdicts[key]:
            hidden.append(pk)
    return queryset.exclude(pk__in=hidden) if hidden else queryset


def visible_filter(user) -> Q:
    """
    Return a filter on Report selecting the reports of the consortia ``user`` may see; the
    kinds' record checks come on top (``visible``).
    """
    condition = Q(pk__in=[])
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return condition
    for kind in _registry.values():
        allowed = kind.consortia_for(user)
        if allowed is ALL:
            condition |= Q(kind=kind.kind)
        else:
            ids = list(allowed)
            if ids:
                condition |= Q(kind=kind.kind, consortium_id__in=ids)
    return condition


def font_face_css() -> str:
    """Return the @font-face rule embedding the Japanese font."""
    return (
        f"@font-face {{ font-family: '{FONT_FAMILY}'; "
        f"src: url('{FONT_PATH.as_uri()}') format('truetype'); }}"
    )


def render_pdf(document: Document, *, footer: dict, target: Path) -> None:
    """
    Render ``document`` to ``target`` with its attachments embedded.

    ``footer`` holds the verification line's facts (the chain head when the report was made,
    the verification page), printed on the last page of every report.
    """
    import weasyprint  # heavy; only the task needs it

    if not FONT_PATH.exists():
        raise ReportError(
            f"the Japanese font {FONT_PATH} is missing: install fonts-ipaexfont-gothic"
        )
    html = render_to_string(
        document.template,
        {
            **document.context,
            "title": document.title,
            "font_face_css": font_face_css(),
            "font_family": FONT_FAMILY,
            "verification": footer,
            "attachments": document.attachments,
        },
    )
    attachments = [
        weasyprint.Attachment(
            filename=str(item.path),
            name=item.filename,
            description=item.description or item.filename,
        )
        for item in document.attachments
    ]
    weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        str(target), attachments=attachments, pdf_identifier=False
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
