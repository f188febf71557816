"""Steps that several browser journeys share."""

from __future__ import annotations

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
    """Many phones join a workshop (no lobby) by typing the code, side by side:
    each step is started on every phone before the first is waited for."""
    phones = [
        browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        for _ in names
    ]
    for phone in phones:
        phone.goto(demo.base + "/", wait_until="commit")
    for phone, name in zip(phones, names, strict=True):
        phone.fill("#code", demo.code.lower())
        phone.fill("#name", name)
        phone.click("form[action='/join'] button", no_wait_after=True)
    for phone in phones:
        expect(phone.locator("#m-stage")).to_be_visible(timeout=20_000)
        expect(phone.locator(".conn")).to_have_attribute("data-state", "online")
    return phones
