"""
The register's datasets as a DCAT catalogue in JSON-LD (W3C DCAT 3, with Dublin Core terms):
one dcat:Dataset per consortium and dataset, each with its CSV and JSON distributions under
CC BY 4.0, titles in Japanese and English.
"""

import datetime

from django.urls import reverse
from django.utils import translation

from . import datasets, selectors

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json"}


def both_languages(text) -> list[dict]:
    values = []
    for language in ("ja", "en"):
        with translation.override(language):
            values.append({"@value": str(text), "@language": language})
    return values


def catalogue(base_url: str, today: datetime.date) -> dict:
    """Return the DCAT catalogue of every public consortium's datasets, as JSON-LD."""
    base = base_url.rstrip("/")
    entries = []
    for consortium in selectors.consortia():
        home = reverse("public:consortium", kwargs={"slug": consortium.slug, "lang": "ja"})
        publisher = {
            "@id": f"{base}{home}",
            "@type": "foaf:Organization",
            "foaf:name": [
                {"@value": consortium.name_ja, "@language": "ja"},
                {"@value": consortium.name_en, "@language": "en"},
            ],
        }
        for dataset in datasets.DATASETS:
            name = dataset.name(consortium)
            landing = reverse("public:data", kwargs={"slug": consortium.slug, "lang": "ja"})
            entries.append(
                {
                    "@id": f"{base}{landing}#{dataset.key}",
                    "@type": "dcat:Dataset",
                    "dct:identifier": name,
                    "dct:title": both_languages(dataset.title),
                    "dct:description": both_languages(dataset.description),
                    "dct:publisher": publisher,
                    "dct:license": {"@id": datasets.LICENCE_URL},
                    "dct:modified": {"@value": today.isoformat(), "@type": "xsd:date"},
                    "dcat:landingPage": {"@id": f"{base}{landing}"},
                    "dcat:distribution": [
                        {
                            "@type": "dcat:Distribution",
                            "dct:format": fmt.upper(),
                            "dcat:mediaType": MEDIA_TYPES[fmt],
                            "dct:license": {"@id": datasets.LICENCE_URL},
                            "dcat:downloadURL": {
                                "@id": base
                                + reverse(
                                    "public:download",
                                    kwargs={
                                        "slug": consortium.slug,
                                        "key": dataset.key,
                                        "fmt": fmt,
                                    },
                                )
                            },
                        }
                        for fmt in ("csv", "json")
                    ],
                }
            )
    return {
        "@context": CONTEXT,
        "@id": f"{base}{reverse('public:dcat')}",
        "@type": "dcat:Catalog",
        "dct:title": [
            {"@value": "スマートシティ データ連携基盤 公開台帳", "@language": "ja"},
            {"@value": "Smart-city data platform: public register", "@language": "en"},
        ],
        "dct:license": {"@id": datasets.LICENCE_URL},
        "dcat:dataset": entries,
    }
