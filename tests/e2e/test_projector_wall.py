"""The wall at 1920x1080 (issue 16): one screen, never a scroll bar, whatever the
number of cards; the timer and the join code always in view; the end, a break and
a decision step as the back of the room sees them.

The page is the projector's own (templates/projector/session.html with
static/css/app.css), rendered from the states of tests/web/test_projector_wall.py
and served to Chromium by Playwright's router: no server, no phones to type sixty
cards. Each screen is photographed into test-artifacts/wall-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from server.engine.state import SessionState
from server.web import render
from server.web.templating import STATIC
from server.web.templating import render as tpl_render
from tests.e2e.conftest import shot
from tests.e2e.journeys import PROJECTOR
from tests.web import test_projector_wall as walls

pytestmark = pytest.mark.browser

BASE = "http://wall.test"
QR = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    '<rect width="10" height="10" fill="#fff"/><rect x="1" y="1" width="3" height="3"/></svg>'
)
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def page_html(state: SessionState, now: float) -> str:
    ctx = render.context(state, walls.ROOM, now)
    return tpl_render(walls.ROOM.lang, "projector/session.html", key="k", **ctx)


def show(browser: Browser, state: SessionState, now: float) -> Page:
    html = page_html(state, now)

    def route(r: Route) -> None:
        path = r.request.url.removeprefix(BASE).split("?", 1)[0]
        if path.startswith("/static/"):
            file: Path = STATIC / path.removeprefix("/static/")
            ctype = TYPES.get(file.suffix, "application/octet-stream")
            r.fulfill(status=200, body=file.read_bytes(), content_type=ctype)
        elif path.endswith("/qr.svg"):
            r.fulfill(status=200, body=QR, content_type="image/svg+xml")
        elif path.startswith("/projector/"):
            r.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")
        else:
            r.abort()

    page = browser.new_context(viewport=PROJECTOR).new_page()
    page.route("**/*", route)
    page.goto(f"{BASE}/projector/s1?key=k")
    page.wait_for_load_state("load")
    return page


def inside(page: Page, selector: str) -> dict[str, Any]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"], (selector, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= PROJECTOR["width"], (selector, box)
    return box


def fits(page: Page) -> None:
    height = page.evaluate("document.documentElement.scrollHeight")
    inner = page.evaluate("innerHeight")
    assert height <= inner, f"the wall is {height} px tall in a {inner} px window"


MORE = '"+" counter(hidden-cards) " flere kort"'


def hidden(page: Page) -> int:
    """The cards in the list that the wall does not show (the oldest)."""
    return int(
        page.locator("#wall-loose > li.card").evaluate_all(
            "els => els.filter(e => e.getBoundingClientRect().width <= 2).length"
        )
    )


def more_tile(page: Page) -> str:
    return str(page.locator("#wall-loose").evaluate("e => getComputedStyle(e, '::after').content"))


def font_px(page: Page, selector: str) -> float:
    return float(
        page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    )


@pytest.mark.parametrize("cards", [7, 20, 60])
def test_the_wall_fits_any_number_of_cards(browser: Browser, cards: int) -> None:
    page = show(browser, *walls.wall_with(cards))
    shot(page, f"wall-{cards}-cards")
    fits(page)
    inside(page, "#timer")
    inside(page, ".projector-foot .code")
    shown = page.locator("#wall-loose > li.card").evaluate_all(
        "els => els.filter(e => e.getBoundingClientRect().width > 2)"
        ".map(e => e.getBoundingClientRect().bottom)"
    )
    assert len(shown) == min(cards, 23 if cards > 24 else cards)
    wall_bottom = inside(page, "#wall-loose")
    assert max(shown) <= wall_bottom["y"] + wall_bottom["height"] + 1
    assert font_px(page, "#wall-loose > li.card:last-child") >= 24  # read from the back
    if cards > 24:
        # The newest are the ones shown, and a tile counts the others (a CSS
        # counter of the hidden cards: look at test-artifacts/wall-60-cards.png).
        assert page.locator("#wall-loose > li.card").last.is_visible()
        assert hidden(page) == cards - 23
        assert more_tile(page) == MORE
    page.context.close()


def test_the_wall_grows_when_a_card_is_appended(browser: Browser) -> None:
    """A card the server appends (broadcast.append_cards) moves the wall to the
    next size and, past 24, into the count: nothing needs the wall rendered whole."""
    state, now = walls.wall_with(24)
    page = show(browser, state, now)
    page.locator("#wall-loose").evaluate(
        "e => e.insertAdjacentHTML('beforeend', '<li class=\"card\" id=\"card-new\">Ny</li>')"
    )
    fits(page)
    assert page.locator("#card-new").is_visible()
    assert hidden(page) == 2
    assert more_tile(page) == MORE
    page.context.close()


@pytest.mark.parametrize("clusters", [3, 6])
def test_clusters_share_the_wall_side_by_side(browser: Browser, clusters: int) -> None:
    page = show(browser, *walls.clustered_wall(clusters, 30))
    shot(page, f"wall-{clusters}-clusters")
    fits(page)
    inside(page, "#timer")
    inside(page, ".projector-foot .code")
    for title in page.locator(".cluster-title").all():
        assert title.is_visible()
    assert font_px(page, ".cluster .card") >= 24
    page.context.close()


def test_the_ended_wall_has_no_join_code(browser: Browser) -> None:
    page = show(browser, *walls.ended_state())
    shot(page, "wall-ended")
    fits(page)
    assert not page.locator(".join-hint").is_visible()
    assert not page.locator("#timer").is_visible()
    assert page.get_by_text("Mødet er slut.").is_visible()
    page.context.close()


def test_a_break_says_when_we_start_again_in_large_type(browser: Browser) -> None:
    page = show(browser, *walls.break_state())
    shot(page, "wall-break")
    fits(page)
    inside(page, ".p-resume")
    assert font_px(page, ".p-resume") >= 100
    page.context.close()
    page = show(browser, *walls.break_state(paused=True))
    shot(page, "wall-break-paused")
    fits(page)
    assert font_px(page, ".timer-note") >= 50  # "sat på pause" next to the digits
    inside(page, ".timer-note")
    page.context.close()


def test_the_decisions_are_on_the_wall(browser: Browser) -> None:
    page = show(browser, *walls.decision_state())
    shot(page, "wall-decision")
    fits(page)
    inside(page, ".p-decision")
    assert font_px(page, ".p-decision") >= 40
    page.context.close()


def test_the_join_code_is_large_while_people_join(browser: Browser) -> None:
    first = walls.run_at("intro")
    page = show(browser, first.state, first.now + 30)
    shot(page, "wall-joining")
    fits(page)
    inside(page, ".projector-foot .code")
    assert font_px(page, ".projector-foot .code") >= 80
    page.context.close()
    page = show(browser, *walls.wall_with(3))
    assert 30 <= font_px(page, ".projector-foot .code") < 80  # compact, still legible
    page.context.close()
