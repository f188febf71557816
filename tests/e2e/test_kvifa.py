"""Kvifa sparring in a real browser: five phones, turns, the listening case
owner, one timer, the decision and action, and the journal note downloaded.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phone, login, start_timer_as_the_buttons_do

pytestmark = pytest.mark.browser

NAMES = ["Sara", "Mads", "Ida", "Jonas", "Åse Kjærgaard"]
MONTHS = [
    *("januar", "februar", "marts", "april", "maj", "juni"),
    *("juli", "august", "september", "oktober", "november", "december"),
]


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


# 00:00 or overtime ("−00:12", a real minus sign), never nothing.
OVER = re.compile("^(00:00|\u221200:\\d\\d)$")

# Samples each screen's timer text every 20 ms from now on (htmx swaps #timer whole,
# so an observer on it would go with it) and keeps the moments it was empty.
WATCH_TIMER = """() => {
    window.timerBlanks = [];
    setInterval(() => {
        const digits = document.querySelector('#timer .timer-digits');
        const text = digits ? digits.textContent.trim() : '';
        if (!text) window.timerBlanks.push(document.querySelector('#timer')?.outerHTML || '');
    }, 20);
}"""


def seconds(text: str) -> int:
    minutes, secs = text.strip().split(":")
    return int(minutes) * 60 + int(secs)


def test_kvifa_round_listener_timer_decision_and_journal_note(
    browser: Browser, demo: DemoServer
) -> None:
    fac = browser.new_context(viewport=LAPTOP, accept_downloads=True).new_page()
    fac.on("dialog", lambda dialog: dialog.accept())  # "End the session for everyone?"
    login(fac, demo)
    code, projector_url = create_kvifa(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(projector_url)
    here = DemoServer(**{**demo.__dict__, "code": code})
    phones = [join_phone(browser, here, n, fac) for n in NAMES]
    expect(fac.locator("#f-people .person")).to_have_count(len(NAMES))

    # Sara brings the case: she is the case owner.
    sara = fac.locator("#f-people .person", has_text="Sara")
    sara.locator("button[hx-vals*='set_case_owner']").click()
    expect(fac.locator("#f-people .person", has_text="Sara")).to_contain_text("Sagsejer")
    fac.click("#f-status button")
    expect(wall.locator("#p-stage .p-title")).to_have_text("Præsentation af sagen")

    # The question round: the team asks in the order they joined, and Sara, the case
    # owner, answers; she takes no turn (001, example 11), but she is not silenced.
    go_to(fac, "Spørgerunde")
    expect(wall.locator(".p-round li")).to_have_text(NAMES[1:])
    expect(fac.locator("#f-stage .round li")).to_have_count(len(NAMES) - 1)
    expect(wall.locator(".p-round .turn-current")).to_have_text("Mads")
    expect(phones[1].locator("#m-me .notice-turn")).to_be_visible()
    expect(phones[0].locator("#m-me .notice-turn")).to_have_count(0)
    expect(phones[0].locator("#m-me .notice-listen")).to_have_count(0)

    # Each question gets a minute, so "−1 min" comes with under a minute left: every
    # screen shows 00:00 and then the overtime, never an empty timer (issue 16).
    screens = [fac, wall, phones[0], phones[2]]
    for screen in screens:
        expect(screen.locator("#timer .timer-digits")).to_have_text(re.compile(r"^00:[0-5]\d$"))
        screen.evaluate(WATCH_TIMER)
    fac.locator(".timer-controls button", has_text="−1").click()
    for screen in screens:
        expect(screen.locator("#timer .timer-digits")).to_have_text(OVER, timeout=5000)
        expect(screen.locator("#timer")).to_have_class(re.compile(r"\bis-expired\b"))
        expect(screen.locator("#timer")).not_to_have_class(re.compile(r"\bis-off\b"))
    expect(fac.locator("#timer .timer-digits")).to_have_text(re.compile("^\u221200:\\d\\d$"))
    for screen in screens:
        assert screen.evaluate("() => window.timerBlanks") == [], screen.url
    shot(fac, "kvifa-facilitator-timer-overtime")
    fac.locator(".timer-controls button", has_text="+1").click()
    for screen in screens:
        expect(screen.locator("#timer .timer-digits")).to_have_text(re.compile(r"^0[01]:\d\d$"))
        expect(screen.locator("#timer")).not_to_have_class(re.compile(r"\bis-expired\b"))
    # A long timer counts down in hours ("1:59:58", not "119:58") as it ticks; set
    # the way the buttons send it (the server takes up to 600 minutes).
    start_timer_as_the_buttons_do(fac, 120)
    for screen in screens:
        expect(screen.locator("#timer .timer-digits")).to_have_text(re.compile(r"^1:59:5\d$"))

    go_to(fac, "Løsningsforslag")
    # The case owner only listens; the others take turns, and the wall shows the order.
    expect(wall.locator(".p-round li")).to_have_text(NAMES[1:])
    expect(phones[0].locator("#m-me .notice-listen")).to_contain_text("Lyt")
    expect(phones[0].locator("#m-me .notice-turn")).to_have_count(0)
    expect(phones[1].locator("#m-me .notice-turn")).to_be_visible()
    expect(wall.locator(".p-round .turn-current")).to_have_text("Mads")
    # This round takes cards: whose turn it is reads above the card form, where
    # the eye is (the private notice stays for screen readers), and nowhere else.
    slot = phones[1].locator("#m-stage .turn-slot")
    expect(slot).to_be_visible()
    expect(slot).to_have_text("Det er din tur.")
    slot_box, form_box = slot.bounding_box(), phones[1].locator(".card-form").bounding_box()
    assert slot_box and form_box and slot_box["y"] + slot_box["height"] <= form_box["y"]
    spoken = phones[1].locator("#m-me .notice-turn").bounding_box()
    assert spoken and spoken["height"] <= 1  # heard, not seen twice
    for phone in phones[2:]:
        expect(phone.locator("#m-stage .turn-slot")).to_be_hidden()
    fac.locator("#f-stage button", has_text="Næste taler").click()
    expect(wall.locator(".p-round .turn-current")).to_have_text("Ida")
    expect(phones[2].locator("#m-me .notice-turn")).to_be_visible()
    expect(phones[1].locator("#m-me .notice-turn")).to_have_count(0)
    for phone in phones[3:]:
        expect(phone.locator("#m-me .notice-listen")).to_have_count(0)

    # One timer: the wall and every phone show the same time (within a second).
    expect(wall.locator("#timer")).to_have_attribute("data-status", "running")

    def wall_time() -> int:
        return seconds(wall.locator("#timer .timer-digits").inner_text())

    for phone in phones:  # the wall read before and after, so a slow read cannot flake
        before = wall_time()
        phone_time = seconds(phone.locator("#timer .timer-digits").inner_text())
        after = wall_time()
        assert after - 1 <= phone_time <= before + 1, (before, phone_time, after)
        assert 0 < after <= 120
    shot(phones[0], "kvifa-phone-case-owner-listens")
    shot(phones[2], "kvifa-phone-turn")
    shot(wall, "kvifa-projector-round")

    # The decision, in words that name Sara (the journal note names her role instead).
    go_to(fac, "Beslutning om handling")
    decision = "Sara inviterer familien til netværksmøde inden for 14 dage"
    fac.fill("#decision-text", decision)
    fac.locator("#f-capture form", has=fac.locator("#decision-text")).locator("button").click()
    expect(fac.locator("#f-capture .decisions")).to_contain_text("netværksmøde")
    fac.fill("#action-what", "Indkald til netværksmøde med skolen")
    fac.fill("#action-who", "Sara")
    fac.fill("#action-due", "2030-01-15")
    fac.locator("#f-capture form", has=fac.locator("#action-what")).locator("button").click()
    expect(fac.locator("#f-capture .actions")).to_contain_text("Indkald til netværksmøde")
    shot(fac, "kvifa-facilitator-decision")

    go_to(fac, "Koordinator afslutter")
    fac.locator("#f-status button", has_text="Afslut").click()
    minutes_link = fac.locator("#f-status a", has_text="Referat")
    expect(minutes_link).to_be_visible()
    minutes_link.click()
    fac.wait_for_url(re.compile(r".*/minutes$"))
    with fac.expect_download() as info:
        fac.locator("a[href$='/journal-note.txt']").click()
    download = info.value
    assert download.suggested_filename.endswith(".txt")
    note = Path(download.path()).read_text(encoding="utf-8")

    day = dt.datetime.now(ZoneInfo("Europe/Copenhagen")).date()
    assert "Journalnotat" in note
    assert f"{day.day}. {MONTHS[day.month - 1]} {day.year}" in note, note
    assert "Sagsejer inviterer familien til netværksmøde inden for 14 dage" in note, note
    assert "Indkald til netværksmøde med skolen" in note, note
    assert re.search(r"Sagsejer.*Deltager", note), note  # the roles, not the people
    for name in [*NAMES, "Kjærgaard", "Demo Facilitator"]:
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", note), (name, note)
    shot(fac, "kvifa-minutes-journal-note")
