"""
The import direction of design.md: audit imports no other app; governance only audit; consent
audit and governance (purposes belong to a consortium); review those three (the board reviews
uses of consent's purposes by governance's members); grants all four;
participation audit, governance, consent and review; public reads them all; nothing imports
grants, participation or public.
"""

import ast
from pathlib import Path

from django.conf import settings

APPS = {"audit", "governance", "consent", "review", "grants", "participation", "public"}
ALLOWED = {
    "audit": set(),
    "governance": {"audit"},
    "consent": {"audit", "governance"},
    "review": {"audit", "governance", "consent"},
    "grants": {"audit", "governance", "consent", "review"},
    "participation": {"audit", "governance", "consent", "review"},
    # The register reads every app; nothing imports it.
    "public": {"audit", "governance", "consent", "review", "grants", "participation"},
}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & APPS


def test_each_app_imports_only_what_the_design_allows():
    violations = []
    for app, allowed in ALLOWED.items():
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts and app == "audit":
                continue
            extra = imported_apps(path) - allowed - {app}
            if extra:
                violations.append(f"{path.relative_to(settings.BASE_DIR)} imports {sorted(extra)}")
    assert violations == []
