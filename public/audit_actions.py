"""The register's audit actions and the payload fields each may carry (``audit.actions``)."""

ACTIONS = {
    "publication.settings_set": ["board_disclosure", "created", "publish_officers"],
    "publication.resolution_published": ["republished", "resolution", "with_minutes"],
    "publication.resolution_withdrawn": ["resolution"],
}
