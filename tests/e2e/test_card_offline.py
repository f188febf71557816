"""A card written without a connection: the phone shows it in its own list as
waiting ("Venter …") instead of an empty box, sends it when the wifi is back,
and shows it saved ("Gemt") when the server's reply names it; the walls get it
once, also when it went into a connection that had just died."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, join_phone, login

pytestmark = pytest.mark.browser

STEP = "Gruppearbejde – nuancér og supplér"

# A frame sent into a connection that is already dead never arrives: this drops
# the phone's cards while `window.deadLine` is set, before they reach the network.
LOSE_CARDS = """() => {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (window.deadLine && String(data).includes('"add_card"')) return;
    return send.call(this, data);
  };
}"""


def workshop(browser: Browser, demo: DemoServer) -> tuple[Page, DemoServer]:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    login(fac, demo)
    fac.goto(demo.base + "/facilitator")
    form = fac.locator("form[action='/facilitator/sessions']").first
    form.locator("select[name=script_id]").select_option("opstartsworkshop")
    form.locator("button").click()
    fac.wait_for_url(re.compile(r".*/facilitator/sessions/\w+$"))
    code = fac.locator(".topbar-code .code").inner_text()
    return fac, DemoServer(**{**demo.__dict__, "code": code})


def write(phone: Page, text: str) -> None:
    phone.fill("#card-text", text)
    phone.locator(".card-form button").click()
    expect(phone.locator("#card-text")).to_have_value("")


def test_a_card_written_offline_waits_then_is_saved(browser: Browser, demo: DemoServer) -> None:
    fac, here = workshop(browser, demo)
    phone = join_phone(browser, here, "Lise")
    fac.click("#f-status button")
    fac.locator("#f-steps button", has_text=STEP).click()
    expect(phone.locator("#card-text")).to_be_visible()
    mine = phone.locator("#m-cards li.card")

    # Online: the card is saved at once, and says so.
    write(phone, "Første kort")
    expect(mine.filter(has_text="Første kort")).to_have_attribute("data-state", "saved")
    expect(mine.filter(has_text="Første kort")).to_contain_text("Gemt")

    # Offline: the box empties, and the card waits in the list.
    phone.context.set_offline(True)
    expect(phone.locator(".conn")).to_have_attribute("data-state", "offline")
    write(phone, "Skrevet uden net")
    waiting = mine.filter(has_text="Skrevet uden net")
    expect(waiting).to_have_attribute("data-state", "waiting")
    expect(waiting.locator(".card-state")).to_have_text("Venter …")
    shot(phone, "card-offline-waiting")
    expect(fac.locator("#f-cards")).not_to_contain_text("Skrevet uden net")

    # Back online: sent, answered by id, saved; the walls have it once.
    phone.context.set_offline(False)
    expect(phone.locator(".conn")).to_have_attribute("data-state", "online", timeout=10_000)
    saved = mine.filter(has_text="Skrevet uden net")
    expect(saved).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(saved).to_contain_text("Gemt")
    expect(saved.get_by_role("button")).to_be_visible()  # the server's own item: withdrawable
    shot(phone, "card-offline-saved")
    expect(fac.locator("#f-cards li.card", has_text="Skrevet uden net")).to_have_count(1)

    # Into a connection that has just died (neither end knows yet): lost on the
    # way, it still waits, and goes again when the phone is back.
    phone.evaluate(LOSE_CARDS)
    phone.evaluate("() => { window.deadLine = true; }")
    write(phone, "Sendt mens nettet faldt")
    phone.context.set_offline(True)
    dropped = mine.filter(has_text="Sendt mens nettet faldt")
    expect(dropped).to_have_attribute("data-state", "waiting")
    phone.evaluate("() => { window.deadLine = false; }")
    phone.context.set_offline(False)
    expect(dropped).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(fac.locator("#f-cards li.card", has_text="Sendt mens nettet faldt")).to_have_count(1)
    expect(mine).to_have_count(3)
