"""
The public register's pages: no sign-in, Japanese at /register/, やさしい日本語 at
/ja-easy/register/ and English at /en/register/, no cookies, no scripts. Each page answers with
an ETag over the audit log's head (every change the register could show appends an entry) and
may be cached by anyone for a few minutes.
"""

import datetime
import hashlib
from functools import wraps

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.views.decorators.http import require_safe

from governance import comparison

from . import charts, datasets, dcat, selectors

# Shared caches may keep a page five minutes; a changed page has another ETag at once.
CACHE_CONTROL = "public, max-age=300"
USES_PER_PAGE = 50


# Where each language's pages live (public/urls.py), in the order the header offers them.
PREFIXES = {"ja": "", "ja-easy": "/ja-easy", "en": "/en"}


def language_paths(path: str, lang: str) -> dict[str, str]:
    """Return the address of the page at ``path`` (in ``lang``) in each other language."""
    bare = path[len(PREFIXES[lang]) :]
    return {code: f"{prefix}{bare}" for code, prefix in PREFIXES.items() if code != lang}


def register_page(view):
    """
    Serve ``view`` in the URL's language (``lang``), with an ETag and Cache-Control, and answer
    304 Not Modified when the client's copy is current.
    """

    @require_safe
    @wraps(view)
    def wrapped(request, *args, lang: str = "ja", **kwargs):
        today = timezone.localdate()
        with translation.override(lang):
            version = selectors.data_version()
            tag = hashlib.sha256(
                f"{request.get_full_path()}|{lang}|{version}|{today}".encode()
            ).hexdigest()[:32]
            etag = f'"{tag}"'
            response = get_conditional_response(request, etag=etag)
            if response is None:
                request.register = {
                    "lang": lang,
                    "today": today,
                    "language_paths": language_paths(request.get_full_path(), lang),
                }
                response = view(request, *args, today=today, **kwargs)
        if response.status_code in (200, 304):
            response["ETag"] = etag
            response["Cache-Control"] = CACHE_CONTROL
        response["Content-Language"] = lang
        patch_vary_headers(response, ["Accept-Encoding"])
        return response

    return wrapped


def page(request, template: str, context: dict, status: int = 200):
    return render(request, template, {**request.register, **context}, status=status)


@register_page
def index(request, today: datetime.date):
    return page(request, "public/index.html", {"consortia": selectors.consortia()})


@register_page
def consortium(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/consortium.html",
        {
            "consortium": consortium,
            "uses": selectors.decided_tickets(consortium).count(),
            "bylaw": selectors.bylaw_in_force(consortium, today),
            "checkpoint": selectors.checkpoint(),
        },
    )


@register_page
def uses(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    # One query for the count and one for the page: the list shows each use's summary only
    # (its page has the rest).
    paginator = Paginator(
        selectors.use_summaries(selectors.decided_tickets(consortium)), USES_PER_PAGE
    )
    page_obj = paginator.get_page(request.GET.get("page"))
    # A use's address is the list's followed by its id (public/urls.py): one reverse() for the
    # page, not one per row.
    listing = reverse("public:uses", kwargs={"slug": slug, "lang": request.register["lang"]})
    rows = [selectors.use_summary(ticket, today) for ticket in page_obj.object_list]
    for row in rows:
        row["path"] = f"{listing}{row['id']}/"
    return page(
        request,
        "public/uses.html",
        {"consortium": consortium, "rows": rows, "page_obj": page_obj},
    )


@register_page
def use(request, slug: str, ticket_id: int, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    ticket = selectors.use_by_id(consortium, ticket_id)
    [row] = selectors.use_rows([ticket], today)
    return page(
        request,
        "public/use.html",
        {
            "consortium": consortium,
            "row": row,
            "proof": selectors.inclusion_proof_for(row["audit_seq"]),
        },
    )


@register_page
def members(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    rows = selectors.member_rows(consortium)
    settings_ = selectors.publication_settings(consortium)
    return page(
        request,
        "public/members.html",
        {
            "consortium": consortium,
            "current": [row for row in rows if row["left_on"] is None],
            "former": [row for row in rows if row["left_on"] is not None],
            "officers": selectors.officer_rows(consortium, today),
            "board": selectors.board_rows(consortium, today),
            "settings": settings_,
        },
    )


@register_page
def bylaws(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    in_force = selectors.bylaw_in_force(consortium, today)
    versions = selectors.bylaw_versions(consortium)  # newest first
    return page(
        request,
        "public/bylaws.html",
        {
            "consortium": consortium,
            "in_force": in_force,
            "articles": list(in_force.articles.all()) if in_force else [],
            "history": list(zip(versions, [*versions[1:], None], strict=True)),
        },
    )


@register_page
def bylaw_version(request, slug: str, number: int, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    version = selectors.bylaw_version(consortium, number)
    in_force = selectors.bylaw_in_force(consortium, today)
    return page(
        request,
        "public/bylaw_version.html",
        {
            "consortium": consortium,
            "version": version,
            "in_force": in_force is not None and in_force.pk == version.pk,
            "articles": list(version.articles.all()),
        },
    )


@register_page
def bylaw_compare(request, slug: str, old: int, new: int, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    before, after = (
        selectors.bylaw_version(consortium, old),
        selectors.bylaw_version(consortium, new),
    )
    return page(
        request,
        "public/bylaw_compare.html",
        {
            "consortium": consortium,
            "old": before,
            "new": after,
            "changes": comparison.compare_versions(before, after),
        },
    )


@register_page
def resolutions(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/resolutions.html",
        {"consortium": consortium, "rows": selectors.resolution_rows(consortium)},
    )


@register_page
def consultations(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/consultations.html",
        {"consortium": consortium, "rows": selectors.consultation_rows(consortium, today)},
    )


@register_page
def consultation(request, slug: str, consultation_id: int, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/consultation.html",
        {
            "consortium": consortium,
            "section_name": "consultations",
            **selectors.consultation_detail(consortium, consultation_id),
        },
    )


@register_page
def proposals(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/proposals.html",
        {"consortium": consortium, "rows": selectors.proposal_rows(consortium, today)},
    )


@register_page
def meetings(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/meetings.html",
        {"consortium": consortium, "rows": selectors.meeting_rows(consortium, today)},
    )


@register_page
def meeting(request, slug: str, meeting_id: int, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/meeting.html",
        {
            "consortium": consortium,
            "section_name": "meetings",
            **selectors.meeting_detail(consortium, meeting_id),
        },
    )


@register_page
def statistics(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    rows = selectors.consent_rows(consortium, today)
    by_purpose: dict[str, dict] = {}
    for row in rows:
        group = by_purpose.setdefault(
            row["purpose_code"],
            {"purpose_ja": row["purpose_ja"], "purpose_en": row["purpose_en"], "months": []},
        )
        group["months"].append(row)
    return page(
        request,
        "public/statistics.html",
        {
            "consortium": consortium,
            "current": selectors.consent_current(consortium),
            "purposes": list(by_purpose.values()),
            "accesses": selectors.access_rows(consortium),
            "small": selectors.SMALL_COUNT,
        },
    )


@register_page
def checkpoint(request, today: datetime.date):
    return page(request, "public/checkpoint.html", {"checkpoint": selectors.checkpoint()})


# --- Open data -----------------------------------------------------------------------------------


@register_page
def data(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    return page(
        request,
        "public/data.html",
        {
            "consortium": consortium,
            "datasets": datasets.DATASETS,
            "licence_url": datasets.LICENCE_URL,
        },
    )


@register_page
def download(request, slug: str, key: str, fmt: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    dataset = datasets.BY_KEY.get(key)
    if dataset is None or fmt not in ("csv", "json"):
        raise Http404("no such dataset")
    rows = dataset.rows(consortium, today)
    filename = f"{dataset.name(consortium)}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(
            datasets.csv_text(dataset, rows), content_type="text/csv; charset=utf-8"
        )
    else:
        response = JsonResponse(
            {
                "dataset": dataset.name(consortium),
                "consortium": consortium.slug,
                "licence": datasets.LICENCE_URL,
                "hidden_below": selectors.SMALL_COUNT,
                "columns": list(dataset.columns),
                "rows": datasets.json_rows(dataset, rows),
            },
            json_dumps_params={"ensure_ascii": False},
        )
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@register_page
def catalogue(request, today: datetime.date):
    """The register's datasets as a DCAT catalogue (JSON-LD)."""
    response = JsonResponse(
        dcat.catalogue(request.build_absolute_uri("/"), today),
        json_dumps_params={"ensure_ascii": False},
        content_type="application/ld+json",
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


# --- KPIs ----------------------------------------------------------------------------------------


@register_page
def scorecard(request, slug: str, today: datetime.date):
    consortium = selectors.consortium_by_slug(slug)
    cards = selectors.indicators_public(consortium)
    for number, card in enumerate(cards, start=1):
        card.chart = charts.indicator_svg(card, f"indicator-{number}")
    return page(request, "public/scorecard.html", {"consortium": consortium, "cards": cards})
