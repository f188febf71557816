"""The foundation journey in a real browser: laptop, projector and two phones."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phone, login

pytestmark = pytest.mark.browser


def test_step_change_and_card_reach_every_screen(browser: Browser, demo: DemoServer) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    login(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(demo.projector_url)
    phones = [join_phone(browser, demo, "Bo", fac), join_phone(browser, demo, "Lea", fac)]
    expect(fac.locator("#f-people")).to_contain_text("Bo")
    shot(wall, "projector-lobby")
    shot(phones[0], "phone-lobby")

    fac.click("#f-status button")
    expect(fac.locator("#f-steps [aria-current=step]")).to_have_count(1)
    first = fac.locator("#f-stage .stage-title").inner_text()
    for screen in (wall.locator("#p-stage"), *(p.locator("#m-stage") for p in phones)):
        expect(screen).to_contain_text(first, timeout=1000)

    fac.locator("#f-status button[hx-vals*='next_step']").click()
    expect(fac.locator("#f-stage .stage-title")).not_to_have_text(first)
    second = fac.locator("#f-stage .stage-title").inner_text()
    for screen in (
        wall.locator("#p-stage .p-title"),
        *(p.locator("#m-stage .m-title") for p in phones),
    ):
        expect(screen).to_have_text(second, timeout=1000)
    shot(fac, "facilitator-step")
    shot(wall, "projector-step")
    shot(phones[0], "phone-step")

    # Go to a step where cards are open, and write one from a phone.
    fac.locator("#f-steps button", has_text="Løsningsforslag").click()
    expect(phones[0].locator("#card-text")).to_be_visible()
    phones[0].fill("#card-text", "Inddrag netværket tidligt <b>nu</b>")
    phones[0].locator(".card-form button").click()
    expect(wall.locator("#p-stage")).to_contain_text(
        "Inddrag netværket tidligt <b>nu</b>", timeout=1000
    )
    expect(phones[0].locator("#m-me")).to_contain_text("Inddrag netværket")
    shot(wall, "projector-cards")
    shot(phones[0], "phone-cards")


def test_phone_reconnects_by_itself(browser: Browser, demo: DemoServer) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    login(fac, demo)
    phone = join_phone(browser, demo, "Karin", fac)
    ctx = phone.context
    expect(phone.locator(".conn")).to_have_attribute("data-state", "online")
    ctx.set_offline(True)
    phone.evaluate("() => 0")  # let the page notice
    ctx.set_offline(False)
    expect(phone.locator(".conn")).to_have_attribute("data-state", "online", timeout=10_000)
