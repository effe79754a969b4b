"""The register's audit actions and the payload fields each may carry (``audit.actions``)."""

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "publication.settings_set": ["board_disclosure", "created", "publish_officers"],
    "publication.resolution_published": ["republished", "resolution", "with_minutes"],
    "publication.resolution_withdrawn": ["resolution"],
    "indicator.defined": ["changed", "code", "is_public", "purpose", "source"],
    "indicator.updated": ["changed", "code", "is_public", "purpose", "source"],
    "indicator.measured": ["indicator", "measured_on", "obligation", "reported_by", "value"],
    "indicator.computed": ["indicator", "measured_on", "replaced", "value"],
    "pdca.reviewed": ["decision", "indicator", "period_end", "period_start"],
    "pdca.put_to_assembly": ["assembly", "resolution"],
}

# What each action means, in words (``audit.actions.label``).
LABELS = {
    "publication.settings_set": _("Publication settings changed"),
    "publication.resolution_published": _("Resolution published"),
    "publication.resolution_withdrawn": _("Published resolution withdrawn"),
    "indicator.defined": _("Indicator defined"),
    "indicator.updated": _("Indicator changed"),
    "indicator.measured": _("Indicator value reported"),
    "indicator.computed": _("Indicator value computed"),
    "pdca.reviewed": _("Indicator reviewed (PDCA)"),
    "pdca.put_to_assembly": _("PDCA review put to the general assembly"),
}
