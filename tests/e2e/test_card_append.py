"""Cards appended to the walls (an out-of-band "beforeend" of their <li>, not
the wall rendered whole) leave the projector and the facilitator's screen with
exactly what a freshly loaded page shows, and an appended card's remove button
works like any other."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phone, login

pytestmark = pytest.mark.browser


def add_card(phone: Page, wall: Page, text: str) -> None:
    phone.fill("#card-text", text)
    phone.locator(".card-form button").click()
    expect(wall.locator("#wall-loose")).to_contain_text(text, timeout=2000)


def test_appended_cards_are_what_a_fresh_page_shows(browser: Browser, demo: DemoServer) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    login(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(demo.projector_url)
    phone = join_phone(browser, demo, "Bo", fac)
    fac.click("#f-status button")
    fac.locator("#f-steps button", has_text="Løsningsforslag").click()
    expect(phone.locator("#card-text")).to_be_visible()

    texts = ["Første <b>kort</b>", "Andet & tredje", "Tredje 'kort'", "Fjerde"]
    for text in texts:
        add_card(phone, wall, text)
    expect(fac.locator("#f-card-count")).to_have_text(str(len(texts)))
    expect(fac.locator("#f-cards li.card")).to_have_count(len(texts))

    fresh_wall = browser.new_context(viewport=PROJECTOR).new_page()
    fresh_wall.goto(demo.projector_url)
    fresh_fac = fac.context.new_page()
    fresh_fac.goto(demo.session_url)
    expect(fresh_wall.locator("#wall-loose li")).to_have_count(len(texts))
    expect(fresh_fac.locator("#f-cards li.card")).to_have_count(len(texts))
    assert (
        wall.locator("#wall-loose").inner_html() == fresh_wall.locator("#wall-loose").inner_html()
    )
    assert fac.locator("#f-cards").inner_html() == fresh_fac.locator("#f-cards").inner_html()
    assert (
        fac.locator("#f-card-count").inner_text() == fresh_fac.locator("#f-card-count").inner_text()
    )

    # The last card came as an append: its remove button is live.
    fac.locator("#f-cards li.card", has_text="Fjerde").get_by_role("button").click()
    expect(wall.locator("#wall-loose")).not_to_contain_text("Fjerde", timeout=2000)
    expect(fac.locator("#f-card-count")).to_have_text(str(len(texts) - 1))
