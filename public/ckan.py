"""
Read actions of the CKAN Action API (API version 3), so that the open-data portals and
harvesters that speak CKAN pull the register as they pull any CKAN site: ``package_list``,
``package_show``, ``package_search``, ``organization_list``, ``organization_show`` and
``status_show``, at /api/3/action/ and /api/action/, by GET (query parameters) or POST (a JSON
object), as CKAN takes them.

A package is one dataset of one consortium (``<slug>-<dataset>``), with a CSV and a JSON
resource; an organisation is a consortium. Answers use CKAN's envelope (``help``, ``success``,
``result``) and CKAN's errors, which CKAN clients turn back into their exceptions: 404 with
``{"__type": "Not Found Error"}``, 409 with ``{"__type": "Validation Error", field: [message]}``
or ``{"__type": "Search Query Error"}``, 400 for an action this site does not have. (The rest of
the platform's API answers ``{"error": code, "detail": ...}``; this API answers as CKAN does.)
"""

import datetime
import json
import shlex

from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from . import datasets, selectors

# The CKAN release whose Action API these answers follow.
CKAN_VERSION = "2.10.0"
MAX_ROWS = 1000
TRUE = {"true", "yes", "on", "y", "t", "1"}


class NotFound(Exception):
    pass


class Invalid(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


class BadQuery(Exception):
    pass


def _integer(params: dict, name: str, default: int, maximum: int | None = None) -> int:
    value = params.get(name, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid({name: ["Invalid integer"]}) from None
    if number < 0:
        raise Invalid({name: ["Must be a natural number"]})
    return min(number, maximum) if maximum is not None else number


def _signed_integer(params: dict, name: str, default: int) -> int:
    """Return an integer that may be -1 (CKAN's "no limit")."""
    value = params.get(name, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Invalid({name: ["Invalid integer"]}) from None
    if number < -1:
        raise Invalid({name: ["Must be -1 (no limit) or a natural number"]})
    return number


def _boolean(params: dict, name: str) -> bool:
    value = params.get(name, False)
    return value is True or str(value).lower() in TRUE


def _required(params: dict, name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise Invalid({name: ["Missing value"]})
    return str(value)


# --- What CKAN says about a consortium and a dataset --------------------------------------------


def _base(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def organization_dict(request, consortium, *, package_count: int | None = None) -> dict:
    created = consortium.established_on or datetime.date(2000, 1, 1)
    data = {
        "id": datasets.organization_id(consortium),
        "name": consortium.slug,
        "title": consortium.name_ja,
        "display_name": consortium.name_ja,
        "description": consortium.vision,
        "image_url": "",
        "image_display_url": "",
        "created": f"{created.isoformat()}T00:00:00",
        "is_organization": True,
        "approval_status": "approved",
        "state": "active",
        "type": "organization",
        "num_followers": 0,
        "package_count": len(datasets.DATASETS) if package_count is None else package_count,
        "extras": [{"key": "title_en", "value": consortium.name_en}],
        "url": _base(request)
        + reverse("public:consortium", kwargs={"slug": consortium.slug, "lang": "ja"}),
    }
    return data


def package_dict(request, consortium, dataset, today: datetime.date) -> dict:
    base = _base(request)
    name = dataset.name(consortium)
    created = consortium.established_on or datetime.date(2000, 1, 1)
    modified = f"{today.isoformat()}T00:00:00"
    package_id = datasets.package_id(name)
    resources = []
    for position, fmt in enumerate(("csv", "json")):
        resources.append(
            {
                "id": datasets.resource_id(name, fmt),
                "package_id": package_id,
                "name": f"{name}.{fmt}",
                "description": "",
                "format": fmt.upper(),
                "mimetype": "text/csv" if fmt == "csv" else "application/json",
                "url": base
                + reverse(
                    "public:download",
                    kwargs={"slug": consortium.slug, "key": dataset.key, "fmt": fmt},
                ),
                "url_type": None,
                "position": position,
                "state": "active",
                "created": f"{created.isoformat()}T00:00:00",
                "last_modified": modified,
                "metadata_modified": modified,
            }
        )
    from django.utils import translation

    with translation.override("ja"):
        title_ja, notes_ja = str(dataset.title), str(dataset.description)
    with translation.override("en"):
        title_en, notes_en = str(dataset.title), str(dataset.description)
    return {
        "id": package_id,
        "name": name,
        "title": f"{title_ja}（{consortium.name_ja}）",
        "notes": notes_ja,
        "type": "dataset",
        "state": "active",
        "private": False,
        "license_id": datasets.LICENCE_ID,
        "license_title": datasets.LICENCE_TITLE,
        "license_url": datasets.LICENCE_URL,
        "isopen": True,
        "author": consortium.name_ja,
        "author_email": None,
        "maintainer": consortium.name_ja,
        "maintainer_email": None,
        "version": None,
        "url": base + reverse("public:data", kwargs={"slug": consortium.slug, "lang": "ja"}),
        "metadata_created": f"{created.isoformat()}T00:00:00",
        "metadata_modified": modified,
        "owner_org": datasets.organization_id(consortium),
        "organization": organization_dict(request, consortium),
        "num_resources": len(resources),
        "resources": resources,
        "num_tags": 0,
        "tags": [],
        "groups": [],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        "extras": [
            {"key": "title_en", "value": f"{title_en} ({consortium.name_en})"},
            {"key": "notes_en", "value": notes_en},
        ],
    }


def _all_packages():
    for consortium in selectors.consortia():
        for dataset in datasets.DATASETS:
            yield consortium, dataset


def _find_organization(identifier: str):
    for consortium in selectors.consortia():
        if identifier in (consortium.slug, datasets.organization_id(consortium)):
            return consortium
    raise NotFound("Organization was not found")


def _find_package(identifier: str):
    for consortium, dataset in _all_packages():
        name = dataset.name(consortium)
        if identifier in (name, datasets.package_id(name)):
            return consortium, dataset
    raise NotFound("Dataset not found")


# --- The actions ----------------------------------------------------------------------------------


def package_list(request, params, today):
    limit = _integer(params, "limit", 0)
    offset = _integer(params, "offset", 0)
    names = sorted(dataset.name(consortium) for consortium, dataset in _all_packages())
    names = names[offset:]
    return names[:limit] if limit else names


def package_show(request, params, today):
    consortium, dataset = _find_package(_required(params, "id"))
    return package_dict(request, consortium, dataset, today)


FQ_FIELDS = {"organization", "name", "res_format", "license_id", "owner_org"}


def _filters(query: str) -> list[tuple[str, str]]:
    """Parse ``field:value`` clauses (values may be quoted), as a CKAN fq of ANDed terms."""
    try:
        parts = shlex.split(query)
    except ValueError:
        raise BadQuery(f"Invalid search query: {query}") from None
    clauses = []
    for part in parts:
        if part.startswith("+"):
            part = part[1:]
        field, sep, value = part.partition(":")
        if not sep or field not in FQ_FIELDS:
            raise BadQuery(f"Unsupported filter: {part}")
        clauses.append((field, value.strip('"')))
    return clauses


def _matches_filter(package: dict, field: str, value: str) -> bool:
    if field == "organization":
        return package["organization"]["name"] == value
    if field == "owner_org":
        return package["owner_org"] == value
    if field == "res_format":
        return value.upper() in {resource["format"] for resource in package["resources"]}
    return package.get(field) == value


def _matches_text(package: dict, terms: list[str]) -> bool:
    text = " ".join(
        [
            package["name"],
            package["title"],
            package["notes"],
            package["organization"]["title"],
            *(extra["value"] for extra in package["extras"]),
            *(extra["value"] for extra in package["organization"]["extras"]),
        ]
    ).lower()
    return all(term in text for term in terms)


# The facets CKAN's own search page asks for; ``tags`` and ``groups`` are always empty here.
FACET_FIELDS = {"organization", "res_format", "license_id", "tags", "groups"}
FACET_LIMIT = 50  # CKAN's ``search.facets.default``


def _facet_fields(params: dict) -> list[str]:
    """Return the ``facet.field`` list (a JSON list of names, or a list in a JSON body)."""
    value = params.get("facet.field")
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Invalid({"facet.field": ["Could not parse as valid JSON"]}) from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid({"facet.field": ["Not a list of field names"]})
    unknown = sorted(set(value) - FACET_FIELDS)
    if unknown:
        raise Invalid({"facet.field": [f"Unsupported facet: {', '.join(unknown)}"]})
    return value


def _facet_values(package: dict, field: str) -> list[tuple[str, str]]:
    """Return the (name, display name) pairs ``package`` counts for under ``field``."""
    if field == "organization":
        organization = package["organization"]
        return [(organization["name"], organization["title"])]
    if field == "res_format":
        formats = sorted({resource["format"] for resource in package["resources"]})
        return [(fmt, fmt) for fmt in formats]
    if field == "license_id":
        return [(package["license_id"], package["license_title"])]
    return [(item["name"], item.get("display_name", item["name"])) for item in package[field]]


def _facets(found: list[dict], fields: list[str], limit: int, mincount: int):
    """Count the found packages per value of each field, as CKAN's ``facets``/``search_facets``."""
    facets, search_facets = {}, {}
    for field in fields:
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        for package in found:
            for name, display in _facet_values(package, field):
                counts[name] = counts.get(name, 0) + 1
                names[name] = display
        items = sorted(
            ((name, count) for name, count in counts.items() if count >= mincount),
            key=lambda item: (-item[1], item[0]),
        )
        if limit >= 0:
            items = items[:limit]
        facets[field] = dict(items)
        search_facets[field] = {
            "title": field,
            "items": [
                {"name": name, "display_name": names[name], "count": count} for name, count in items
            ],
        }
    return facets, search_facets


def package_search(request, params, today):
    rows = _integer(params, "rows", 10, MAX_ROWS)
    start = _integer(params, "start", 0)
    q = str(params.get("q", "") or "").strip()
    filters = _filters(str(params.get("fq", "") or ""))
    fields = _facet_fields(params)
    facet_limit = _signed_integer(params, "facet.limit", FACET_LIMIT)
    facet_mincount = _integer(params, "facet.mincount", 1)
    terms = []
    if q and q != "*:*":
        for word in q.split():
            field, sep, value = word.partition(":")
            if sep and field in FQ_FIELDS:
                filters.append((field, value.strip('"')))
            else:
                terms.append(word.lower())
    found = []
    for consortium, dataset in _all_packages():
        package = package_dict(request, consortium, dataset, today)
        if all(_matches_filter(package, f, v) for f, v in filters) and _matches_text(
            package, terms
        ):
            found.append(package)
    found.sort(key=lambda package: package["name"])
    facets, search_facets = {}, {}
    if fields and (params.get("facet") in (None, "") or _boolean(params, "facet")):
        facets, search_facets = _facets(found, fields, facet_limit, facet_mincount)
    return {
        "count": len(found),
        "results": found[start : start + rows],
        "sort": params.get("sort") or "score desc, metadata_modified desc",
        "facets": facets,
        "search_facets": search_facets,
    }


def organization_list(request, params, today):
    consortia = selectors.consortia()
    if str(params.get("sort", "")).startswith("name desc"):
        consortia = sorted(consortia, key=lambda c: c.slug, reverse=True)
    else:
        consortia = sorted(consortia, key=lambda c: c.slug)
    offset = _integer(params, "offset", 0)
    limit = _integer(params, "limit", 0)
    consortia = consortia[offset:]
    consortia = consortia[:limit] if limit else consortia
    if _boolean(params, "all_fields"):
        return [organization_dict(request, consortium) for consortium in consortia]
    return [consortium.slug for consortium in consortia]


def organization_show(request, params, today):
    consortium = _find_organization(_required(params, "id"))
    result = organization_dict(request, consortium)
    if _boolean(params, "include_datasets"):
        result["packages"] = [
            package_dict(request, consortium, dataset, today) for dataset in datasets.DATASETS
        ]
    return result


def status_show(request, params, today):
    return {
        "site_title": "スマートシティ データ連携基盤 公開台帳",
        "site_description": "Smart-city data platform: public register",
        "site_url": _base(request),
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "ja",
        "extensions": [],
    }


ACTIONS = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "status_show": status_show,
}


def _answer(request, action: str, status: int, **body) -> JsonResponse:
    envelope = {
        "help": f"{_base(request)}/api/3/action/help_show?name={action}",
        **body,
    }
    response = JsonResponse(envelope, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _parameters(request) -> dict:
    params = dict(request.GET.items())
    if request.method == "POST" and request.body:
        if request.content_type == "application/json" or request.body.lstrip()[:1] == b"{":
            try:
                body = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                raise Invalid({"message": ["Could not parse the JSON body"]}) from None
            if not isinstance(body, dict):
                raise Invalid({"message": ["The JSON body must be an object"]})
            params.update(body)
        else:
            params.update(request.POST.items())
    return params


@csrf_exempt
def action(request, action: str):
    """Answer one CKAN action, in CKAN's envelope."""
    if request.method not in ("GET", "POST"):
        return _answer(
            request,
            action,
            400,
            success=False,
            error={"__type": "Bad Request", "message": "Bad request - use GET or POST"},
        )
    handler = ACTIONS.get(action)
    if handler is None:
        return _answer(
            request,
            action,
            400,
            success=False,
            error={
                "__type": "Bad Request",
                "message": f"Bad request - Action name not known: {action}",
            },
        )
    try:
        result = handler(request, _parameters(request), timezone.localdate())
    except NotFound:
        return _answer(
            request,
            action,
            404,
            success=False,
            error={"__type": "Not Found Error", "message": "Not found"},
        )
    except Invalid as invalid:
        return _answer(
            request,
            action,
            409,
            success=False,
            error={"__type": "Validation Error", **invalid.errors},
        )
    except BadQuery as bad:
        return _answer(
            request,
            action,
            409,
            success=False,
            error={"__type": "Search Query Error", "message": f"Search Query is invalid: {bad}"},
        )
    response = _answer(request, action, 200, success=True, result=result)
    if request.method == "GET":
        response["Cache-Control"] = "public, max-age=300"
    return response
