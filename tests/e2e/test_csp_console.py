"""The CSP (style-src 'self', script-src 'self') refuses nothing on the live
screens: no inline style or script anywhere a phone, the projector or the
facilitator's screen goes, through cards, a vote and its published chart."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phone, login

pytestmark = pytest.mark.browser

# Runs before the page's own scripts (Playwright injects it, outside the CSP).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


def watched(page: Page, problems: list[str], name: str) -> Page:
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: problems.append(f"{name}: {m.text}") if m.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda e: problems.append(f"{name}: {e}"))
    return page


def violations(page: Page) -> list[str]:
    return list(page.evaluate("() => window.__violations || []"))


def test_no_csp_errors_on_the_live_screens(browser: Browser, demo: DemoServer) -> None:
    problems: list[str] = []
    fac = watched(browser.new_context(viewport=LAPTOP).new_page(), problems, "facilitator")
    fac.on("dialog", lambda dialog: dialog.accept())
    login(fac, demo)
    fac.goto(demo.base + "/facilitator")
    form = fac.locator("form[action='/facilitator/sessions']").first
    form.locator("select[name=script_id]").select_option("implementeringsworkshop")
    form.locator("button").click()
    fac.wait_for_url(re.compile(r".*/facilitator/sessions/\w+$"))
    code = fac.locator(".topbar-code .code").inner_text()
    projector = fac.locator("a[target=tovholder-projector]").get_attribute("href")
    wall = watched(browser.new_context(viewport=PROJECTOR).new_page(), problems, "projector")
    wall.goto(demo.base + str(projector))
    here = DemoServer(**{**demo.__dict__, "code": code})
    phone = join_phone(browser, here, "Sara")
    watched(phone, problems, "phone")
    phone.reload()  # the init script and the listeners from the first load on
    expect(phone.locator(".conn")).to_have_attribute("data-state", "online")
    fac.click("#f-status button")

    # Cards on every wall.
    fac.locator("#f-steps button", has_text="Skærp indsatsområderne").click()
    if phone.locator("#card-text").count():
        phone.fill("#card-text", "Et kort")
        phone.locator(".card-form button").click()
        expect(fac.locator("#f-cards")).to_contain_text("Et kort")

    # A vote, then its chart on the wall and the phone.
    fac.locator("#f-steps button", has_text="Hvad er vigtigst?").click()
    expect(fac.locator("#f-stage .stage-title")).to_have_text("Hvad er vigtigst?")
    panel = fac.locator("#f-stage .poll-panel")
    options = panel.locator(".poll-options li:not(.empty)")
    for i in range(options.count(), 2):
        panel.locator(".poll-add input[name=label]").fill(f"Område {i + 1}")
        panel.locator(".poll-add button").click()
        expect(options).to_have_count(i + 1)

    def poll(message: str) -> None:
        fac.locator(f"#f-stage .poll-panel button[hx-vals*='\"{message}\"']").first.click()

    poll("open_poll")
    phone.locator(".dot-row").first.locator("[data-dot='1']").click()
    phone.locator(".ballot-send").click()
    expect(phone.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    poll("close_poll")
    poll("publish_poll")
    expect(wall.locator(".p-chart svg")).to_be_visible()
    expect(phone.locator(".m-chart svg")).to_be_visible()

    for name, page in (("facilitator", fac), ("projector", wall), ("phone", phone)):
        assert violations(page) == [], name
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert problems == [], problems  # nothing else in the consoles either (e.g. a 404)
