"""Every screen, in a real browser, for everyone in the room.

Each screen is shown at 360x740 (phone), 1366x768 (laptop) and 1920x1080
(projector), photographed into test-artifacts/<screen>-<size>.png, and run through
axe-core (WCAG 2.0-2.2 A/AA): no serious or critical violation anywhere. On a
phone-sized screen every control is at least 44 px and nothing scrolls sideways;
the projector's text is large and never thin. The facilitator drives a session by
keyboard alone, focus is visible, and screen readers hear step changes and the end
of the timer through a live region that stays in place while fragments are swapped.

One live session per kind of step, and each page is re-laid out at the three sizes
rather than opened three times.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.a11y import ROOT, check, report, require_axe
from tests.e2e.conftest import DemoServer
from tests.e2e.journeys import LAPTOP, PHONE, PROJECTOR, login, start_timer_as_the_buttons_do

pytestmark = pytest.mark.browser

LAPTOP_FIRST = ("laptop", "phone", "projector")
PROJECTOR_FIRST = ("projector", "laptop", "phone")


# No shipped script has a score vote, so the module's demo server also loads this one
# (through a sitecustomize on the server's PYTHONPATH that adds a folder to the catalog).
SCORE_SCRIPT = """\
id: a11y-score
title: Vurdering af indsatsområder
session_type: implementation
language: da
duration: 10
steps:
  - id: vurdering
    kind: poll
    title: Hvor godt lykkes vi?
    type: score
    scale_min: 1
    scale_max: 5
    question: Giv hvert område en karakter fra 1 til 5.
    options: [Tidlig opsporing, Barnets stemme, Opfølgning]
"""
SITECUSTOMIZE = """\
import os
if os.environ.get("TOVHOLDER_TEST_EXTRA_SCRIPTS"):
    from pathlib import Path
    from server import catalog

    _load = catalog.Catalog.load.__func__

    def _with_extra(cls, folder):
        shipped = _load(cls, folder)
        extra = _load(cls, Path(os.environ["TOVHOLDER_TEST_EXTRA_SCRIPTS"]))
        return cls({**shipped.scripts, **extra.scripts})

    catalog.Catalog.load = classmethod(_with_extra)
"""


@pytest.fixture(scope="module")
def extra_scripts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], None]]:
    """The environment that makes the next server load the score-vote script too."""
    folder = tmp_path_factory.mktemp("a11y-scripts")
    (folder / "a11y-score.yaml").write_text(SCORE_SCRIPT, encoding="utf-8")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "TOVHOLDER_TEST_EXTRA_SCRIPTS")}
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(folder), str(ROOT), saved["PYTHONPATH"]) if p
    )
    os.environ["TOVHOLDER_TEST_EXTRA_SCRIPTS"] = str(folder)

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    yield restore
    restore()


@pytest.fixture(scope="module")
def demo(extra_scripts: Callable[[], None], demo: DemoServer) -> DemoServer:
    """conftest's demo server, started with the score-vote script in its catalog."""
    extra_scripts()  # started: later servers get the environment as it was
    return demo


@pytest.fixture(scope="module")
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Contexts made by the tests, closed at the end of the module."""
    made: list[BrowserContext] = []
    yield made
    for ctx in made:
        ctx.close()


def new_page(
    browser: Browser,
    contexts: list[BrowserContext],
    viewport: dict[str, int],
    mobile: bool = False,
    state: dict[str, Any] | None = None,
) -> Page:
    ctx = browser.new_context(
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        storage_state=state,  # type: ignore[arg-type]
    )
    contexts.append(ctx)
    return ctx.new_page()


@pytest.fixture(scope="module")
def signed_in(browser: Browser, demo: DemoServer, contexts: list[BrowserContext]) -> dict[str, Any]:
    """The facilitator's login, once for the module (cookies reused by each test)."""
    page = new_page(browser, contexts, LAPTOP)
    login(page, demo)
    return dict(page.context.storage_state())


def facilitator_page(
    browser: Browser, contexts: list[BrowserContext], signed_in: dict[str, Any]
) -> Page:
    return new_page(browser, contexts, LAPTOP, state=signed_in)


def create(fac: Page, demo: DemoServer, script_id: str) -> tuple[str, str]:
    """A new session of `script_id` from the overview; returns its code and projector URL."""
    fac.goto(demo.base + "/facilitator")
    form = fac.locator("form[action='/facilitator/sessions']").first
    form.locator("select[name=script_id]").select_option(script_id)
    form.locator("button").click()
    fac.wait_for_url(re.compile(r".*/facilitator/sessions/\w+$"))
    code = fac.locator(".topbar-code .code").inner_text()
    projector = fac.locator("a[target=tovholder-projector]").get_attribute("href")
    assert projector
    return code, demo.base + projector


def go_to(fac: Page, title: str) -> None:
    fac.locator("#f-steps button", has_text=title).click()
    expect(fac.locator("#f-stage .stage-title")).to_have_text(title)


def join(
    browser: Browser,
    contexts: list[BrowserContext],
    demo: DemoServer,
    code: str,
    name: str,
    door: Page | None = None,
    problems: list[str] | None = None,
    screens: str = "",
) -> Page:
    """A phone joins; with `problems` given, its join page and waiting room are checked too."""
    phone = new_page(browser, contexts, PHONE, mobile=True)
    phone.goto(f"{demo.base}/j/{code}")
    phone.fill("#name", name)
    if problems is not None:
        problems += check(phone, f"{screens}phone-join")
        phone.set_viewport_size(PHONE)
    phone.locator("form[action='/join'] button").click()
    if door is not None:
        expect(phone.locator("main.lobby")).to_be_visible()
        if problems is not None:
            problems += check(phone, f"{screens}phone-lobby-waiting")
            problems += check(door, f"{screens}facilitator-lobby-knock", sizes=LAPTOP_FIRST)
            phone.set_viewport_size(PHONE)
        door.locator(".waiting", has_text=name).get_by_role("button").first.click()
    expect(phone.locator("#m-stage")).to_be_visible(timeout=10_000)
    expect(phone.locator(".conn")).to_have_attribute("data-state", "online")
    return phone


# -- pages without a live session ------------------------------------------------------------


def test_pages_around_the_sessions(
    browser: Browser,
    demo: DemoServer,
    contexts: list[BrowserContext],
    signed_in: dict[str, Any],
) -> None:
    require_axe()
    problems: list[str] = []
    anon = new_page(browser, contexts, PHONE, mobile=True)
    anon.goto(demo.base + "/login")
    problems += check(anon, "login")
    anon.goto(demo.base + "/")
    problems += check(anon, "phone-front")
    anon.goto(demo.base + "/j/XXXXXXXX")  # a wrong code: the join page with its error
    problems += check(anon, "phone-wrong-code")
    anon.goto(demo.base + "/no-such-page")
    problems += check(anon, "error-404")

    fac = facilitator_page(browser, contexts, signed_in)
    laptop_pages = LAPTOP_FIRST
    fac.goto(demo.base + "/facilitator")
    problems += check(fac, "facilitator-overview", sizes=laptop_pages)
    eng = fac.locator(".engagement h2 a").first.get_attribute("href")
    assert eng
    fac.goto(demo.base + "/coordinator")
    problems += check(fac, "coordinator-overview", sizes=laptop_pages)
    fac.locator("a.btn-primary", has_text=re.compile("Referat|Minutes")).first.click()
    fac.wait_for_load_state()
    problems += check(fac, "coordinator-minutes", sizes=laptop_pages)

    for path, screen in (
        ("", "engagement-timeline"),
        ("/cases", "engagement-cases"),
        ("/selection", "engagement-selection"),
        ("/focus-areas", "engagement-focus-areas"),
        ("/plan", "engagement-plan"),
    ):
        fac.goto(demo.base + eng + path)
        problems += check(fac, screen, sizes=laptop_pages)
    fac.goto(demo.base + eng + "/cases")
    fac.locator("table a[href*='/cases/']").first.click()
    fac.wait_for_load_state()
    problems += check(fac, "engagement-case", sizes=laptop_pages)
    fac.goto(demo.base + eng)
    fac.locator("a[href*='/sessions/']", has_text=re.compile(".")).first.click()
    fac.wait_for_load_state()
    problems += check(fac, "engagement-session", sizes=laptop_pages)

    # The consultation: the coordinator's link page, and the participants' page it links to.
    fac.goto(demo.base + eng + "/focus-areas")
    fac.locator("a[href*='/consultations/']").first.click()
    fac.wait_for_load_state()
    problems += check(fac, "engagement-consultation", sizes=laptop_pages)
    link = fac.locator(".access-link").inner_text().strip()
    access = fac.locator(".access-code").inner_text().strip()
    reader = new_page(browser, contexts, PHONE, mobile=True)
    reader.goto(link)
    problems += check(reader, "consultation-code")
    reader.set_viewport_size(PHONE)
    reader.fill("#code", access)
    reader.locator("form[action^='/h/'] button").click()
    reader.wait_for_load_state()
    expect(reader.locator("textarea").first).to_be_visible()
    problems += check(reader, "consultation-comment")

    for path, screen in (
        ("/admin", "admin-engagements"),
        ("/admin/audit", "admin-audit"),
        ("/account/totp", "account-totp"),
    ):
        fac.goto(demo.base + path)
        problems += check(fac, screen, sizes=laptop_pages)
    fac.goto(demo.base + "/admin")
    fac.locator("a[href$='/delete']").first.click()
    fac.wait_for_load_state()
    problems += check(fac, "admin-delete", sizes=laptop_pages)
    assert not problems, report(problems)


# -- live sessions: one per kind of step, each screen at the three sizes ---------------------


def facilitator(page: Page, screen: str) -> list[str]:
    return check(page, f"facilitator-{screen}", sizes=LAPTOP_FIRST)


def wall(page: Page, screen: str) -> list[str]:
    return check(
        page, f"projector-{screen}", sizes=PROJECTOR_FIRST, phone_rules=False, projector_rules=True
    )


def phone(page: Page, screen: str) -> list[str]:
    problems = check(page, f"phone-{screen}")
    page.set_viewport_size(PHONE)
    return problems


def poll_button(fac: Page, message: str) -> None:
    fac.locator(f"#f-stage .poll-panel button[hx-vals*='\"{message}\"']").first.click()


def test_workshop_cards_votes_and_decisions(
    browser: Browser,
    demo: DemoServer,
    contexts: list[BrowserContext],
    signed_in: dict[str, Any],
) -> None:
    require_axe()
    problems: list[str] = []
    fac = facilitator_page(browser, contexts, signed_in)
    fac.on("dialog", lambda dialog: dialog.accept())  # "Close the vote?"
    code, projector_url = create(fac, demo, "implementeringsworkshop")
    screen = new_page(browser, contexts, PROJECTOR)
    screen.goto(projector_url)
    expect(screen.locator(".conn")).to_have_attribute("data-state", "online")
    mobile = join(browser, contexts, demo, code, "Sara")
    problems += wall(screen, "lobby")
    problems += phone(mobile, "welcome")
    problems += facilitator(fac, "planned")
    fac.click("#f-status button")

    go_to(fac, "Skærp indsatsområderne")  # a discussion that takes cards
    mobile.fill("#card-text", "Faste kontaktpersoner for børn i pleje")
    mobile.locator(".card-form button").click()
    expect(screen.locator("#p-stage .card")).to_have_count(1)
    problems += facilitator(fac, "cards")
    problems += wall(screen, "cards")
    problems += phone(mobile, "cards")

    go_to(fac, "Hvad er vigtigst?")  # dot voting over the focus areas
    problems += facilitator(fac, "poll-draft")
    poll_button(fac, "open_poll")
    expect(mobile.locator("form[data-ballot=dot]")).to_be_visible()
    mobile.locator(".dot-row").nth(0).locator("[data-dot='1']").click()
    mobile.locator(".dot-row").nth(1).locator("[data-dot='1']").click()
    problems += phone(mobile, "ballot-dot")
    mobile.locator(".ballot-send").click()
    expect(mobile.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect(screen.locator("#p-poll-count .p-count-n")).to_have_text("1")
    problems += wall(screen, "poll-count")
    problems += facilitator(fac, "poll-open")
    poll_button(fac, "close_poll")
    poll_button(fac, "publish_poll")
    expect(screen.locator(".p-chart svg")).to_be_visible()
    expect(mobile.locator(".m-chart svg")).to_be_visible()
    problems += wall(screen, "poll-chart")
    problems += phone(mobile, "poll-result")
    problems += facilitator(fac, "poll-published")

    go_to(fac, "Prioritering og tidsperspektiv")  # ranking
    poll_button(fac, "open_poll")
    expect(mobile.locator("form[data-ballot=rank]")).to_be_visible()
    mobile.locator(".rank-pool .rank-row").nth(1).locator("[data-rank='add']").click()
    problems += phone(mobile, "ballot-rank")

    go_to(fac, "Beslutninger og ansvar")  # decision capture
    fac.fill("#decision-text", "Faste kontaktpersoner indføres fra 1. marts")
    fac.locator("#f-capture form", has=fac.locator("#decision-text")).locator("button").click()
    expect(fac.locator("#f-capture .decisions")).to_contain_text("kontaktpersoner")
    problems += facilitator(fac, "decision")
    problems += wall(screen, "decision")
    problems += phone(mobile, "decision")
    assert not problems, report(problems)


def test_kvifa_round_and_the_listening_case_owner(
    browser: Browser,
    demo: DemoServer,
    contexts: list[BrowserContext],
    signed_in: dict[str, Any],
) -> None:
    require_axe()
    problems: list[str] = []
    fac = facilitator_page(browser, contexts, signed_in)
    code, projector_url = create(fac, demo, "kvifa")
    screen = new_page(browser, contexts, PROJECTOR)
    screen.goto(projector_url)
    owner = join(browser, contexts, demo, code, "Sara", fac)
    other = join(browser, contexts, demo, code, "Mads", fac)
    fac.locator("#f-people .person", has_text="Sara").locator(
        "button[hx-vals*='set_case_owner']"
    ).click()
    expect(fac.locator("#f-people .person", has_text="Sara")).to_contain_text("Sagsejer")
    fac.click("#f-status button")

    go_to(fac, "Løsningsforslag")  # a round that takes cards; the case owner listens
    expect(other.locator("#m-me .notice-turn")).to_be_visible()
    expect(owner.locator("#m-me .notice-listen")).to_be_visible()
    other.fill("#card-text", "Netværksmøde inden for 14 dage")
    other.locator(".card-form button").click()
    expect(screen.locator("#p-stage .card")).to_have_count(1)
    problems += facilitator(fac, "round")
    problems += wall(screen, "round")
    problems += phone(other, "round-turn")
    problems += phone(owner, "listen")
    assert not problems, report(problems)


def test_score_ballot(
    browser: Browser,
    demo: DemoServer,
    contexts: list[BrowserContext],
    signed_in: dict[str, Any],
) -> None:
    require_axe()
    fac = facilitator_page(browser, contexts, signed_in)
    code, _ = create(fac, demo, "a11y-score")
    mobile = join(browser, contexts, demo, code, "Bo")
    fac.click("#f-status button")
    poll_button(fac, "open_poll")
    expect(mobile.locator("form[data-ballot=score] .score-row")).to_have_count(3)
    mobile.locator(".score-row").nth(0).locator(".score-chip span").nth(3).click()
    problems = phone(mobile, "ballot-score")
    assert not problems, report(problems)


def test_case_meeting_lobby_and_walkthrough(
    browser: Browser,
    demo: DemoServer,
    contexts: list[BrowserContext],
    signed_in: dict[str, Any],
) -> None:
    require_axe()
    problems: list[str] = []
    fac = facilitator_page(browser, contexts, signed_in)
    code, projector_url = create(fac, demo, "heldagsmoede")
    screen = new_page(browser, contexts, PROJECTOR)
    screen.goto(projector_url)
    mobile = join(browser, contexts, demo, code, "Lea", fac, problems, "case-")
    fac.click("#f-status button")
    go_to(fac, "Udvalgte sager – del 1")
    expect(screen.locator(".p-case")).to_be_visible()
    problems += facilitator(fac, "case")
    problems += wall(screen, "case")
    problems += phone(mobile, "case")
    assert not problems, report(problems)


# -- keyboard and screen readers -------------------------------------------------------------

FOCUS_RING = """(el) => {
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    const shadow = s.boxShadow && s.boxShadow !== 'none';
    return {visible: el.matches(':focus-visible') && (outline || shadow),
            outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, shadow: s.boxShadow};
}"""


def tab_to(page: Page, selector: str, most: int = 60) -> None:
    """Press Tab until `selector` has focus, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => document.activeElement.matches({selector!r})"):
            ring = page.evaluate(FOCUS_RING, page.locator(selector).element_handle())
            assert ring["visible"], f"no visible focus on {selector}: {ring}"
            return
    raise AssertionError(f"{selector} cannot be reached with Tab in {most} presses")


def test_the_facilitator_drives_by_keyboard_and_screen_readers_hear_it(
    browser: Browser,
    demo: DemoServer,
    contexts: list[BrowserContext],
    signed_in: dict[str, Any],
) -> None:
    fac = facilitator_page(browser, contexts, signed_in)
    code, projector_url = create(fac, demo, "kvifa")
    screen = new_page(browser, contexts, PROJECTOR)
    screen.goto(projector_url)
    mobile = join(browser, contexts, demo, code, "Ida", fac)
    fac.reload()  # from the top of the page, without the mouse from here on
    expect(fac.locator(".conn")).to_have_attribute("data-state", "online")
    announcers = [p.locator("#announce") for p in (fac, screen, mobile)]
    for region in announcers:
        expect(region).to_have_attribute("aria-live", "polite")
        expect(region).to_have_text("")

    start = "#f-status button.btn-primary"
    tab_to(fac, start)
    fac.keyboard.press("Enter")
    first = "Præsentation af sagen"
    expect(fac.locator("#f-stage .stage-title")).to_have_text(first)
    for region in announcers:  # every screen says the new step
        expect(region).to_have_text(re.compile(rf"1 af \d+: {first}"))

    next_step = "#f-status button[hx-vals*='next_step']"
    tab_to(fac, next_step)
    fac.keyboard.press("Enter")
    second = "Spørgerunde"
    expect(fac.locator("#f-stage .stage-title")).to_have_text(second)
    for region in announcers:
        expect(region).to_have_text(re.compile(rf"2 af \d+: {second}"))
    # Focus stays on "Next step" after the stage is swapped, so Enter goes on again.
    expect(fac.locator(next_step)).to_be_focused()
    ring = fac.evaluate(FOCUS_RING, fac.locator(next_step).element_handle())
    assert ring["visible"], ring

    # The timer's controls answer to the keyboard too.
    more = "#main .timer-controls button[hx-vals*='\"minutes\": 1}']"  # +1 min
    tab_to(fac, more)
    fac.keyboard.press("Enter")
    expect(fac.locator("#timer .timer-digits")).to_have_text(re.compile(r"0[12]:\d\d"))
    expect(fac.locator(more)).to_be_focused()
    # A timer that runs out (six seconds, the shortest the server takes, set the way
    # the buttons send it): every screen hears that the time is up.
    start_timer_as_the_buttons_do(fac, 0.1)
    # 00:00 for about a second, then overtime (−00:01, ...)
    expect(fac.locator("#timer .timer-digits")).to_have_text(
        re.compile("^(00:00|−00:\\d\\d)$"), timeout=10_000
    )
    for region in announcers:
        expect(region).to_have_text("Tiden er gået.")

    # On to the next step, by keyboard again from where focus is.
    tab_to(fac, next_step)
    fac.keyboard.press("Enter")
    expect(fac.locator("#f-stage .stage-title")).to_have_text("Refleksionsrunde")
    for region in announcers:
        expect(region).to_have_text(re.compile(r"3 af \d+: Refleksionsrunde"))
