"""Issue 16: the facilitator's laptop (1366x768).

The next-step button, the timer and an open vote's close button stay in view
without scrolling (a sticky control bar); closing a vote asks nothing and offers
an undo; after "End session" the step and timer buttons go and the meeting can
be reopened; the step's questions are on the facilitator's screen.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Locator, Page, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, PHONE, login
from tests.e2e.test_voting import create_workshop, go_to

pytestmark = pytest.mark.browser

NEXT = "#f-status button[hx-vals*='next_step']"
CLOSE = "#f-status button[hx-vals*='close_poll']"
UNDO = "#f-status button[hx-vals*='reopen_poll']"


def in_view(page: Page, target: Locator) -> None:
    """Wholly inside the 1366x768 window as it is scrolled now."""
    box = target.bounding_box()
    assert box is not None, target
    assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], box


def scroll_to_bottom(page: Page) -> None:
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => window.scrollY > 0")


def test_the_laptop_keeps_its_controls_in_view(browser: object, demo: DemoServer) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    fac.on("dialog", refuse)
    login(fac, demo)
    create_workshop(fac, demo)

    # Before the meeting: one start, no timer start besides it.
    expect(fac.locator("button[hx-vals*='start_session']")).to_have_count(1)
    expect(fac.locator("button[hx-vals*='start_timer']")).to_have_count(0)
    shot(fac, "laptop-before-start")
    fac.locator("button[hx-vals*='start_session']").click()
    expect(fac.locator(NEXT)).to_be_visible()

    # The step's questions are on the facilitator's screen.
    go_to(fac, "Skærp indsatsområderne")
    expect(fac.locator("#f-stage .step-questions li")).to_have_count(3)
    expect(fac.locator("#f-stage .step-questions")).to_contain_text("Hvad skal vi holde op med?")
    shot(fac, "laptop-step-questions")

    # A vote: open it; the close button is in the bar, in view, scrolled or not.
    go_to(fac, "Hvad er vigtigst?")
    panel = fac.locator("#f-stage .poll-panel").first
    options = panel.locator(".poll-options li:not(.empty)")
    for i in range(options.count(), 2):
        panel.locator(".poll-add input[name=label]").fill(f"Indsatsområde {i + 1}")
        panel.locator(".poll-add button").click()
        expect(options).to_have_count(i + 1)
    panel.locator("button[hx-vals*='open_poll']").click()
    expect(fac.locator(CLOSE)).to_be_visible()
    for target in (fac.locator(NEXT), fac.locator("#timer"), fac.locator(CLOSE)):
        in_view(fac, target)
    shot(fac, "laptop-open-vote")
    scroll_to_bottom(fac)
    for target in (fac.locator(NEXT), fac.locator("#timer"), fac.locator(CLOSE)):
        in_view(fac, target)
    shot(fac, "laptop-open-vote-scrolled")

    # Closing asks nothing; the bar offers to undo it, and the undo reopens the vote.
    fac.locator(CLOSE).click()
    expect(fac.locator("#f-stage .poll-panel").first).to_have_attribute("data-status", "closed")
    expect(fac.locator(UNDO)).to_be_visible()
    in_view(fac, fac.locator(UNDO))
    shot(fac, "laptop-vote-closed-undo")
    fac.locator(UNDO).click()
    expect(fac.locator("#f-stage .poll-panel").first).to_have_attribute("data-status", "open")
    fac.locator(CLOSE).click()
    expect(fac.locator("#f-stage .poll-panel").first).to_have_attribute("data-status", "closed")

    # The end: the step and timer buttons go; the meeting can be taken up again.
    fac.locator("#f-status button[hx-vals*='end_session']").click()
    reopen = fac.locator("#f-status button[hx-vals*='reopen_session']")
    expect(reopen).to_be_visible()
    expect(fac.locator("button[hx-vals*='next_step']")).to_have_count(0)
    expect(fac.locator("button[hx-vals*='start_timer']")).to_have_count(0)
    expect(fac.locator("button[hx-vals*='reopen_poll']")).to_have_count(0)
    expect(fac.locator("#timer")).to_be_hidden()
    fac.evaluate("() => window.scrollTo(0, 0)")
    shot(fac, "laptop-ended")
    reopen.click()
    expect(fac.locator(NEXT)).to_be_visible()
    expect(fac.locator("#f-stage .stage-title")).to_have_text("Hvad er vigtigst?")

    assert dialogs == [], dialogs  # no window.confirm() anywhere on the way


def test_let_everyone_in_and_copy_the_journal_note(browser: object, demo: DemoServer) -> None:
    from tests.e2e.test_kvifa import create_kvifa

    context = browser.new_context(viewport=LAPTOP)  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo.base)
    fac = context.new_page()
    dialogs: list[str] = []
    fac.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(fac, demo)
    code, _ = create_kvifa(fac, demo)

    # Three knock at the door; one button lets them all in.
    names = ["Sara", "Mads", "Lene"]
    phones = []
    for name in names:
        phone = browser.new_context(viewport=PHONE, is_mobile=True).new_page()  # type: ignore[attr-defined]
        phone.goto(demo.base + "/")
        phone.fill("#code", code.lower())
        phone.fill("#name", name)
        phone.click("form[action='/join'] button")
        expect(phone.locator("main.lobby")).to_be_visible()
        phones.append(phone)
    expect(fac.locator(".waiting")).to_have_count(3)
    everyone = fac.locator(".lobby-panel button[value=admit_all]")
    expect(everyone).to_be_visible()
    shot(fac, "laptop-lobby-let-everyone-in")
    everyone.click()
    expect(fac.locator("#f-people .person")).to_have_count(3)
    expect(fac.locator(".lobby-panel")).to_have_count(0)
    for phone in phones:
        expect(phone.locator("#m-stage")).to_be_visible(timeout=10_000)

    # A decision over two lines, then the journal note's copy button.
    fac.locator("button[hx-vals*='start_session']").click()
    expect(fac.locator("#decision-text")).to_be_visible()
    assert fac.locator("#decision-text").evaluate("e => e.tagName") == "TEXTAREA"
    fac.fill("#decision-text", "Sagsejer inviterer familien\ntil netværksmøde")
    fac.locator("#f-capture form", has=fac.locator("#decision-text")).locator("button").click()
    expect(fac.locator("#f-capture .decisions li")).to_have_count(1)
    fac.locator("#f-status button[hx-vals*='end_session']").click()
    fac.locator("#f-status a[href$='/minutes']").click()
    fac.wait_for_url(re.compile(r".*/minutes$"))
    copy = fac.locator("button[data-copy=journal-text]")
    copy.click()
    expect(copy).to_have_text("Kopieret")
    copied = fac.evaluate("() => navigator.clipboard.readText()")
    assert copied == fac.locator("#journal-text").input_value()
    assert "Journalnotat" in copied
    copy.scroll_into_view_if_needed()
    shot(fac, "laptop-journal-note-copied")
    assert dialogs == [], dialogs
