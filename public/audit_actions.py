"""The register's audit actions and the payload fields each may carry (``audit.actions``)."""

ACTIONS = {
    "publication.settings_set": ["board_disclosure", "created", "publish_officers"],
    "publication.resolution_published": ["republished", "resolution", "with_minutes"],
    "publication.resolution_withdrawn": ["resolution"],
    "indicator.defined": ["changed", "code", "is_public", "purpose", "source"],
    "indicator.updated": ["changed", "code", "is_public", "purpose", "source"],
    "indicator.measured": ["indicator", "measured_on", "reported_by", "value"],
    "indicator.computed": ["indicator", "measured_on", "replaced", "value"],
    "pdca.reviewed": ["decision", "indicator", "period_end", "period_start"],
    "pdca.put_to_assembly": ["assembly", "resolution"],
}
