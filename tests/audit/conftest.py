import pytest


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Reports are written under a fresh MEDIA_ROOT for every test."""
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def report_kinds():
    """Let a test register report kinds of its own; the registry is restored afterwards."""
    from audit import reports

    saved = dict(reports._registry)
    yield reports
    reports._registry.clear()
    reports._registry.update(saved)
