"""Steps that several browser journeys share."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DemoServer

PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}


def login(page: Page, demo: DemoServer) -> None:
    page.goto(demo.session_url)
    page.fill("#username", demo.user)
    page.fill("#password", demo.password)
    page.click("form[action='/login'] button")
    page.wait_for_url(demo.session_url)


def join_phone(browser: Browser, demo: DemoServer, name: str, door: Page | None = None) -> Page:
    """A phone joins with the code; in a case meeting `door` (the facilitator) lets it in."""
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(demo.base + "/")
    phone.fill("#code", demo.code.lower())
    phone.fill("#name", name)
    phone.click("form[action='/join'] button")
    if door is not None and phone.locator("main.lobby").count():
        door.locator(".waiting", has_text=name).get_by_role("button").first.click()
    expect(phone.locator("#m-stage")).to_be_visible(timeout=10_000)
    expect(phone.locator(".conn")).to_have_attribute("data-state", "online")
    return phone


def join_phones(browser: Browser, demo: DemoServer, names: list[str]) -> list[Page]:
    """A crowd of phones joins a workshop (no lobby) with the code, side by side.

    Each phone posts the join form from its own context (the form's CSRF token
    and cookie included) and then opens the live page: one page load per phone
    instead of two. `join_phone` types the code in the form as a person does.
    """
    phones = []
    for name in names:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        front = context.request.get(demo.base + "/")
        token = re.search(r'name="csrf" value="([^"]+)"', front.text())
        assert token, front.text()
        joined = context.request.post(
            demo.base + "/join",
            form={"code": demo.code.lower(), "name": name, "csrf": token.group(1)},
            max_redirects=0,
        )
        assert joined.status in (302, 303), joined.text()
        phone = context.new_page()
        phone.goto(demo.base + str(joined.headers["location"]), wait_until="commit")
        phones.append(phone)
    for phone in phones:
        expect(phone.locator("#m-stage")).to_be_visible(timeout=20_000)
        expect(phone.locator(".conn")).to_have_attribute("data-state", "online")
    return phones


def start_timer_as_the_buttons_do(fac: Page, minutes: float) -> None:
    """Start a timer of any length the way the timer buttons send it: a button
    with ws-send, added to the controls and clicked in the same script (a
    re-render of the controls may replace it a moment later)."""
    fac.evaluate(
        """(minutes) => {
            const b = document.createElement('button');
            b.textContent = 'timer';
            b.setAttribute('ws-send', '');
            b.setAttribute('hx-vals', JSON.stringify({type: 'start_timer', minutes}));
            document.querySelector('.timer-controls').append(b);
            htmx.process(b);
            b.click();
        }""",
        minutes,
    )
