"""
The register as open data: CSV and JSON downloads that say what the pages say, the DCAT
catalogue, and the CKAN-compatible API read by a real CKAN client (ckanapi) from a live server.
"""

import csv
import io
import json

import ckanapi
import pytest
import requests
from django.urls import reverse

from consent import services as consent_services
from public import datasets
from review.models import ReviewTicket

from .conftest import SECRETS, make_resident


def download(client, key: str, fmt: str, slug: str = "aizu"):
    return client.get(reverse("public:download", kwargs={"slug": slug, "key": key, "fmt": fmt}))


def csv_rows(body: bytes) -> list[dict]:
    assert body.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_downloads_say_what_the_register_pages_say(client, register):
    approved, rejected = register["approved"], register["rejected"]
    as_json = download(client, "uses", "json").json()
    assert as_json["licence"] == "https://creativecommons.org/licenses/by/4.0/"
    rows = {row["id"]: row for row in as_json["rows"]}
    # The approval the open purpose was published under is a decided use too (stored directly
    # by the fixtures, without rounds).
    covering = set(
        ReviewTicket.objects.filter(rounds__isnull=True, state="approved").values_list(
            "pk", flat=True
        )
    )
    assert set(rows) == {approved.pk, rejected.pk} | covering
    assert rows[approved.pk]["state"] == "approved"
    assert rows[approved.pk]["votes_approve_with_conditions"] == 3
    assert rows[rejected.pk]["votes_reject"] == 2 and rows[rejected.pk]["votes_approve"] == 1
    assert rows[approved.pk]["grants"] == [f"{register['grant'].jti}:active"]
    assert rows[approved.pk]["obligations"] == ["other:open"]
    page = client.get(
        reverse("public:use", kwargs={"slug": "aizu", "ticket_id": approved.pk, "lang": "en"})
    ).content.decode()
    for value in (
        rows[approved.pk]["title"],
        rows[approved.pk]["audit_hash"],
        rows[approved.pk]["valid_until"],
        rows[approved.pk]["conditions"],
    ):
        assert value in page

    as_csv = {int(row["id"]): row for row in csv_rows(download(client, "uses", "csv").content)}
    assert as_csv[approved.pk]["title"] == rows[approved.pk]["title"]
    assert as_csv[approved.pk]["votes_approve_with_conditions"] == "3"
    assert as_csv[approved.pk]["third_party_provision"] == "false"
    assert as_csv[approved.pk]["categories_ja"] == "; ".join(rows[approved.pk]["categories_ja"])

    members = csv_rows(download(client, "members", "csv").content)
    former = register["former"].organization
    [left] = [row for row in members if row["name_en"] == former.name_en]
    assert left["left_on"] == "2025-03-31"


@pytest.mark.django_db
def test_hidden_counts_stay_hidden_in_downloads(client, register, consortium_a, purpose):
    residents = [make_resident(f"d{i}@example.jp", consortium_a) for i in range(11)]
    for resident in residents:
        consent_services.consent_give(actor=None, resident=resident, purpose=purpose)
    consent_services.consent_withdraw(actor=None, resident=residents[0], purpose=purpose)
    rows = download(client, "consent-statistics", "json").json()["rows"]
    current = [row for row in rows if row["given"] is not None]
    assert [row["given"] for row in current] == [11]
    assert current[0]["withdrawn"] is None  # one withdrawal: fewer than 10
    [this_month] = [
        row
        for row in csv_rows(download(client, "consent-statistics", "csv").content)
        if row["given"] == "11"
    ]
    assert this_month["withdrawn"] == "<10"


@pytest.mark.django_db
def test_nothing_confidential_in_any_dataset(client, register, board_a):
    for dataset in datasets.DATASETS:
        for fmt in ("csv", "json"):
            body = download(client, dataset.key, fmt).content.decode("utf-8-sig")
            for word in SECRETS.values():
                assert word not in body, (dataset.key, fmt, word)
            assert board_a.legal.username not in body and "@example.jp" not in body
    assert download(client, "no-such-dataset", "csv").status_code == 404
    assert download(client, "uses", "xml").status_code == 404


@pytest.mark.django_db
def test_dcat_catalogue_lists_every_dataset_with_working_downloads(client, register):
    response = client.get(reverse("public:dcat"))
    assert response["Content-Type"] == "application/ld+json"
    catalogue = response.json()
    assert catalogue["@type"] == "dcat:Catalog"
    assert catalogue["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    entries = catalogue["dcat:dataset"]
    assert len(entries) == len(datasets.DATASETS)
    uses = next(entry for entry in entries if entry["dct:identifier"] == "aizu-uses")
    assert uses["dct:license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    assert {title["@language"] for title in uses["dct:title"]} == {"ja", "en"}
    for distribution in uses["dcat:distribution"]:
        url = distribution["dcat:downloadURL"]["@id"]
        assert client.get(url.removeprefix("http://testserver")).status_code == 200


# --- A CKAN client against the live server --------------------------------------------------------


@pytest.fixture
def ckan(live_server):
    with ckanapi.RemoteCKAN(live_server.url, user_agent="register-test") as remote:
        yield remote


@pytest.mark.django_db(transaction=True)
def test_ckan_client_lists_and_reads_the_register(ckan, live_server, register):
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.") and status["site_url"] == live_server.url

    names = ckan.action.package_list()
    assert names == sorted(f"aizu-{dataset.key}" for dataset in datasets.DATASETS)
    assert ckan.action.package_list(limit=2, offset=1) == names[1:3]

    package = ckan.action.package_show(id="aizu-uses")
    assert package["license_id"] == "cc-by" and package["organization"]["name"] == "aizu"
    assert ckan.action.package_show(id=package["id"])["name"] == "aizu-uses"
    formats = {resource["format"]: resource["url"] for resource in package["resources"]}
    assert set(formats) == {"CSV", "JSON"}
    # The resources hold what the register's page shows.
    rows = requests.get(formats["JSON"], timeout=10).json()["rows"]
    approved = next(row for row in rows if row["id"] == register["approved"].pk)
    page = requests.get(
        f"{live_server.url}/en/register/aizu/uses/{approved['id']}/", timeout=10
    ).text
    assert approved["title"] in page and approved["audit_hash"] in page
    as_csv = csv_rows(requests.get(formats["CSV"], timeout=10).content)
    assert {int(row["id"]) for row in as_csv} == {row["id"] for row in rows}

    organizations = ckan.action.organization_list()
    assert organizations == ["aizu"]
    [detail] = ckan.action.organization_list(all_fields=True)
    assert detail["package_count"] == len(datasets.DATASETS)
    organization = ckan.action.organization_show(id="aizu", include_datasets=True)
    assert {p["name"] for p in organization["packages"]} == set(names)


@pytest.mark.django_db(transaction=True)
def test_ckan_package_search(ckan, register, consortium_b):
    everything = ckan.action.package_search()
    assert everything["count"] == 2 * len(datasets.DATASETS)  # consortia A and B
    assert len(everything["results"]) == 10  # CKAN's default page
    in_a = ckan.action.package_search(fq="organization:aizu", rows=100)
    assert in_a["count"] == len(datasets.DATASETS)
    assert {p["organization"]["name"] for p in in_a["results"]} == {"aizu"}
    page = ckan.action.package_search(fq="organization:aizu", rows=2, start=2)
    assert [p["name"] for p in page["results"]] == [p["name"] for p in in_a["results"]][2:4]
    found = ckan.action.package_search(q="bylaws", fq='organization:"aizu"')
    assert [p["name"] for p in found["results"]] == ["aizu-bylaws"]
    assert ckan.action.package_search(q="規約", fq="organization:kashiwa")["count"] == 1
    assert ckan.action.package_search(q="nothing-matches-this")["count"] == 0


@pytest.mark.django_db(transaction=True)
def test_ckan_package_search_facets(ckan, register, consortium_b):
    """Facets as CKAN's search page and harvesters ask for them, counted over every match."""
    found = ckan.action.package_search(
        **{"facet.field": '["organization", "res_format", "license_id", "tags"]', "rows": 1}
    )
    per_consortium = len(datasets.DATASETS)
    assert found["facets"]["organization"] == {"aizu": per_consortium, "kashiwa": per_consortium}
    assert found["facets"]["res_format"] == {"CSV": 2 * per_consortium, "JSON": 2 * per_consortium}
    assert found["facets"]["license_id"] == {datasets.LICENCE_ID: 2 * per_consortium}
    assert found["facets"]["tags"] == {}
    items = found["search_facets"]["organization"]["items"]
    assert {item["name"]: item["display_name"] for item in items} == {
        "aizu": register["consortium"].name_ja,
        "kashiwa": consortium_b.name_ja,
    }
    # Filtered, limited, and switched off as CKAN takes it.
    narrowed = ckan.action.package_search(
        fq="organization:aizu", **{"facet.field": '["organization"]', "facet.limit": 1}
    )
    assert narrowed["facets"] == {"organization": {"aizu": per_consortium}}
    off = ckan.action.package_search(**{"facet.field": '["organization"]', "facet": "false"})
    assert off["facets"] == {} and off["search_facets"] == {}
    assert ckan.action.package_search()["facets"] == {}
    # Bad facet requests are CKAN validation errors.
    for bad in ('["organization"', '["secret_field"]', '{"a": 1}'):
        with pytest.raises(ckanapi.ValidationError) as refused:
            ckan.action.package_search(**{"facet.field": bad})
        assert "facet.field" in refused.value.error_dict
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(**{"facet.field": '["organization"]', "facet.limit": "-5"})


@pytest.mark.django_db(transaction=True)
def test_ckan_errors_are_what_ckan_clients_expect(ckan, live_server, register):
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="aizu-no-such-dataset")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="no-such-consortium")
    with pytest.raises(ckanapi.ValidationError) as missing:
        ckan.action.package_show()
    assert missing.value.error_dict["id"] == ["Missing value"]
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_search(rows="many")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="secret_field:x")
    with pytest.raises(ckanapi.CKANAPIError):
        ckan.call_action("package_create", {"name": "x"})

    raw = requests.get(f"{live_server.url}/api/3/action/package_show?id=nope", timeout=10)
    assert raw.status_code == 404
    assert raw.json() == {
        "help": f"{live_server.url}/api/3/action/help_show?name=package_show",
        "success": False,
        "error": {"__type": "Not Found Error", "message": "Not found"},
    }
    assert (
        requests.get(f"{live_server.url}/api/3/action/package_show", timeout=10).status_code == 409
    )
    garbage = requests.post(
        f"{live_server.url}/api/3/action/package_list",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert garbage.status_code == 409 and garbage.json()["success"] is False


@pytest.mark.django_db(transaction=True)
def test_ckan_client_in_get_only_mode(live_server, register):
    with ckanapi.RemoteCKAN(live_server.url, get_only=True) as remote:
        assert "aizu-uses" in remote.action.package_list()
        assert remote.action.package_search(fq="organization:aizu", rows=1)["count"] == len(
            datasets.DATASETS
        )
    raw = requests.get(f"{live_server.url}/api/3/action/status_show", timeout=10)
    assert json.loads(raw.text)["success"] is True
    assert raw.headers["Access-Control-Allow-Origin"] == "*"
