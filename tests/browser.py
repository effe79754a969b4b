"""
What every browser test shares: Debian's Chromium (never a downloaded build), its launch
options, and the checks each page people use must pass (design: axe-core without critical or
serious violations, WCAG 2.2 AA; no sideways scroll at 320 px).

axe-core ships with the suite (tests/vendor/axe-core, MPL-2.0) so that the checks run offline and
the same everywhere. It is evaluated in the page by the driver, not loaded by the page, so it also
checks pages opened with JavaScript disabled.
"""

import weakref
from functools import cache
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# The impacts a page may not have: axe-core's two highest.
FORBIDDEN_IMPACTS = ("critical", "serious")
PHONE_WIDTH = 320

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"
)


def launch(playwright):
    """Start headless Chromium with the options this machine needs."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def _scripts_run(page) -> bool:
    return page.evaluate(
        """() => {
            const probe = document.createElement("script");
            probe.textContent = "window.__scriptsRun = true";
            document.head.appendChild(probe);
            probe.remove();
            return window.__scriptsRun === true;
        }"""
    )


def _run_axe(page) -> list[dict]:
    page.evaluate(_axe_source())
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: [
                    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
                resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )


# Per browser, the page with scripts where copies of pages without them are checked: one for
# all the checks of a test (a new context and page per check cost a third of a second each).
_checkers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _checker(browser, viewport: dict | None):
    """Return ``browser``'s checking page (scripts on), at ``viewport``'s size."""
    checker = _checkers.get(browser)
    if checker is None or checker.is_closed():
        checker = browser.new_context(viewport=viewport).new_page()
        _checkers[browser] = checker
    elif viewport and checker.viewport_size != viewport:
        checker.set_viewport_size(viewport)
    return checker


def axe_violations(page, *, impacts=FORBIDDEN_IMPACTS) -> list[dict]:
    """
    Run axe-core on the page as it is now (WCAG 2.0/2.1/2.2 A and AA rules and best practices)
    and return its violations of the given impacts, each with the rule, help and offending nodes.
    """
    if _scripts_run(page):
        results = _run_axe(page)
    else:
        # With JavaScript disabled (residents' pages are tested so) axe-core's timers never
        # fire: check a copy of the same document, at the same address and size, in a context
        # that runs scripts; its style sheets and images load from the same server.
        html, url = page.content(), page.url
        copy = _checker(page.context.browser, page.viewport_size)
        if url.startswith("http"):

            def serve(route):
                route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)

            copy.route(url, serve)
            try:
                copy.goto(url)
            finally:
                copy.unroute(url, serve)
        else:
            copy.set_content(html)
        results = _run_axe(copy)
    return [violation for violation in results if violation["impact"] in impacts]


def page_width_overflow(page) -> int:
    """Return how many CSS pixels the page is wider than its viewport (0 when it fits)."""
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def follow(locator) -> None:
    """
    Click a link or button that brings a new page and wait until that page has loaded, so that
    what is read next is the new page, not the old one or a document half replaced.
    """
    with locator.page.expect_navigation():
        locator.click()


def assert_page_ok(page, *, width: int = PHONE_WIDTH) -> None:
    """
    Assert that the page as it is now fits a phone ``width`` CSS pixels wide without sideways
    scroll and has no critical or serious axe-core violation; the viewport is put back after.
    """
    page.wait_for_load_state()
    viewport = page.viewport_size
    page.set_viewport_size({"width": width, "height": viewport["height"] if viewport else 640})
    try:
        overflow = page_width_overflow(page)
        violations = axe_violations(page)
    finally:
        if viewport:
            page.set_viewport_size(viewport)
    problems = []
    if overflow:
        problems.append(f"{page.url} is {overflow}px wider than a {width}px screen")
    problems += [
        f"{page.url}: {v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}"
        for v in violations
    ]
    assert not problems, "\n".join(problems)
