"""Kvifa sparring in a real browser: turns, the listening case owner, one timer, the decision."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phone, login

pytestmark = pytest.mark.browser


def create_kvifa(fac: Page, demo: DemoServer) -> tuple[str, str]:
    fac.goto(demo.base + "/facilitator")
    form = fac.locator("form[action='/facilitator/sessions']").first
    form.locator("select[name=script_id]").select_option("kvifa")
    form.locator("button").click()
    fac.wait_for_url(re.compile(r".*/facilitator/sessions/\w+$"))
    code = fac.locator(".topbar-code .code").inner_text()
    projector = fac.locator("a[target=tovholder-projector]").get_attribute("href")
    assert projector
    return code, demo.base + projector


def go_to(fac: Page, title: str) -> None:
    fac.locator("#f-steps button", has_text=title).click()
    expect(fac.locator("#f-stage .stage-title")).to_have_text(title)


def seconds(text: str) -> int:
    minutes, secs = text.strip().split(":")
    return int(minutes) * 60 + int(secs)


def test_kvifa_round_listener_timer_and_decision(browser: Browser, demo: DemoServer) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    login(fac, demo)
    code, projector_url = create_kvifa(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(projector_url)
    names = ["Sara", "Mads", "Ida"]
    phones = [
        join_phone(browser, DemoServer(**{**demo.__dict__, "code": code}), n, fac) for n in names
    ]
    expect(fac.locator("#f-people .person")).to_have_count(3)

    # Sara brings the case: she is the case owner.
    fac.locator("#f-people .person", has_text="Sara").locator("button").click()
    expect(fac.locator("#f-people .person", has_text="Sara")).to_contain_text("Sagsejer")
    fac.click("#f-status button")

    go_to(fac, "Løsningsforslag")
    # The case owner only listens; the others take turns, and the wall shows the order.
    expect(phones[0].locator("#m-me .notice-listen")).to_contain_text("Lyt")
    expect(phones[1].locator("#m-me .notice-turn")).to_be_visible()
    expect(wall.locator(".p-round .turn-current")).to_have_text("Mads")
    expect(wall.locator(".p-round")).not_to_contain_text("Sara")
    fac.locator("#f-stage button", has_text="Næste taler").click()
    expect(wall.locator(".p-round .turn-current")).to_have_text("Ida")
    expect(phones[2].locator("#m-me .notice-turn")).to_be_visible()

    # One timer: wall and phones show the same time (within a second).
    wall_time = seconds(wall.locator("#timer .timer-digits").inner_text())
    phone_time = seconds(phones[1].locator("#timer .timer-digits").inner_text())
    assert abs(wall_time - phone_time) <= 1
    assert 0 < wall_time <= 120
    shot(phones[0], "kvifa-phone-case-owner-listens")
    shot(wall, "kvifa-projector-round")

    go_to(fac, "Beslutning om handling")
    fac.fill("#decision-text", "Familien inviteres til netværksmøde inden for 14 dage")
    fac.locator("#f-capture form", has=fac.locator("#decision-text")).locator("button").click()
    expect(fac.locator("#f-capture .decisions")).to_contain_text("netværksmøde")
    shot(fac, "kvifa-facilitator-decision")
