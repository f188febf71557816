"""The implementation workshop with a room of twenty phones, and its minutes.

Twenty phone-sized contexts in one browser join by code, spread their dots
and rank the focus areas; the wall counts the ballots while the vote is open
and shows the chart once the facilitator publishes. Then the coordinator
downloads the minutes as PDF and DOCX, and both carry the questions and the
results in order, with æ, ø and å intact. Each phone does the least a person
would (a few taps and "vote"), and only a few screens are photographed, so
the journey stays quick.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phones, login
from tests.e2e.test_voting import create_workshop, go_to, poll_button
from tests.minutes.minutes_samples import assert_in_order, docx_text, flat

pytestmark = pytest.mark.browser

PHONES = 20
DOT_QUESTION = "Fordel dine 5 prikker på de indsatsområder, der betyder mest for børnene."
RANK_QUESTION = "I hvilken rækkefølge skal vi gå i gang med indsatsområderne?"
# The demo engagement's focus areas (server/engagement/demo_data.py), as the options.
FOLLOW_UP = "Opfølgning på foranstaltninger med faste intervaller"
LEARNING = "Læring af klagesager og aktindsigter"
LANGUAGE = "Afgørelser i et sprog, familien forstår"
SECOND = "Klare begrundelser ved akut indgriben"
FIRST = "Tidlig og systematisk vurdering af underretninger"


def row_of(phone: Page, kind: str, label: str) -> object:
    return phone.locator(f".{kind}-row", has_text=label)


def dot_plan(i: int) -> list[str]:
    """A dot each: every phone on follow-up, 12 on learning, 5 on language."""
    return [FOLLOW_UP, *([LEARNING] if i < 12 else []), *([LANGUAGE] if i < 5 else [])]


def pdf_text(pdf: bytes) -> str:
    exe = shutil.which("pdftotext")
    assert exe, "pdftotext (poppler-utils) is missing: run `make system-deps`"
    done = subprocess.run(
        [exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def download(page: Page, href: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.locator(f"a[href$='{href}']").click()
    got = info.value
    return got.suggested_filename, Path(got.path()).read_bytes()


def test_twenty_phones_vote_and_the_minutes_carry_the_result(
    browser: Browser, demo: DemoServer
) -> None:
    fac = browser.new_context(viewport=LAPTOP, accept_downloads=True).new_page()
    fac.on("dialog", lambda dialog: dialog.accept())  # "Close the vote?", "End the session?"
    login(fac, demo)
    code, projector_url = create_workshop(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(projector_url)
    here = DemoServer(**{**demo.__dict__, "code": code})
    phones = join_phones(browser, here, [f"Deltager {i + 1}" for i in range(PHONES)])
    expect(fac.locator("#f-people .person")).to_have_count(PHONES)
    fac.click("#f-status button")

    # The dot vote, on the demo engagement's ten focus areas as they are.
    go_to(fac, "Hvad er vigtigst?")
    poll_button(fac, "open_poll")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("0")
    for i, phone in enumerate(phones):
        for label in dot_plan(i):
            row_of(phone, "dot", label).locator("[data-dot='1']").click()
        phone.locator(".ballot-send").click()  # the phones send, then all are checked
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text(str(PHONES), timeout=15_000)
    for phone in phones:
        expect(phone.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect(fac.locator("#f-poll-live .poll-count-n")).to_have_text(str(PHONES))
    expect(wall.locator("svg")).to_have_count(0)  # no result while open
    shot(wall, "workshop20-projector-count")
    shot(phones[0], "workshop20-phone-saved")
    poll_button(fac, "close_poll")
    expect(wall.locator("svg")).to_have_count(0)  # closed, not yet shown
    poll_button(fac, "publish_poll")
    expect(wall.locator(".p-chart svg")).to_be_visible()
    desc = wall.locator(".p-chart desc")
    expect(desc).to_contain_text(f"1. {FOLLOW_UP}: 20")
    expect(desc).to_contain_text(f"2. {LEARNING}: 12")
    expect(desc).to_contain_text(f"3. {LANGUAGE}: 5")
    shot(wall, "workshop20-projector-chart")

    # The ranking: every phone moves the second area to the top.
    go_to(fac, "Prioritering og tidsperspektiv")
    poll_button(fac, "open_poll")
    for phone in phones:
        row_of(phone, "rank", SECOND).locator("[data-rank='add']").click()
        phone.locator(".ballot-send").click()
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text(str(PHONES), timeout=15_000)
    for phone in phones:
        expect(phone.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect(phones[-1].locator(".rank-row").first).to_contain_text(SECOND)
    poll_button(fac, "close_poll")
    poll_button(fac, "publish_poll")
    expect(wall.locator(".result-table-big")).to_be_visible()
    expect(wall.locator(".result-table-big tr").nth(1)).to_contain_text(SECOND)
    shot(wall, "workshop20-projector-rank")

    # The coordinator ends the session and downloads the minutes.
    fac.locator("#f-status button", has_text="Afslut").click()
    fac.locator("#f-status a", has_text="Referat").click()
    fac.wait_for_url(re.compile(r".*/minutes$"))
    shot(fac, "workshop20-minutes-page")
    pdf_name, pdf = download(fac, "/minutes.pdf")
    docx_name, docx = download(fac, "/minutes.docx")
    assert pdf_name.endswith(".pdf") and pdf.startswith(b"%PDF")
    assert docx_name.endswith(".docx") and docx.startswith(b"PK")

    for kind, text in (("pdf", pdf_text(pdf)), ("docx", docx_text(docx))):
        flat_text = flat(text)
        assert "æ" in flat_text and "ø" in flat_text and "å" in flat_text, kind
        assert "\ufffd" not in flat_text and "Ã" not in flat_text, kind  # no mojibake
        # The dot vote: question, then the areas from most to fewest dots, with the counts.
        assert_in_order(text, [DOT_QUESTION, FOLLOW_UP, "20", LEARNING, "12", LANGUAGE, "5"])
        # The ranking after it: the area everyone put first comes first.
        assert_in_order(text, [DOT_QUESTION, RANK_QUESTION, SECOND, FIRST])
        assert re.search(rf"Afgivne stemmer\W*{PHONES}\b", flat_text), kind  # ballots cast
