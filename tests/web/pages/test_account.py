"""Each person picks the interface language: a user on /account, a visitor by a switch.

The user's choice is stored (User.language) and applies to every page that is
not live, also in another browser; the visitor's switch posts with the CSRF
token, sets the tv_lang cookie and comes back to the same page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from server.store.tables import User
from tests.support import PASSWORD, World, csrf_of


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found, page[:200]
    return found.group(1)


def form_csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def stored_language(world: World) -> str:
    user = world.fac.portal.call(world.services.repo.user, world.user.id or 0)
    assert isinstance(user, User)
    return user.language


def log_in(browser: TestClient) -> None:
    r = browser.post(
        "/login",
        data={"username": "anne", "password": PASSWORD, "csrf": csrf_of(browser), "next": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303


# -- a user's choice ------------------------------------------------------------------------


def test_the_overview_links_to_the_account_page(world: World) -> None:
    page = world.fac.get("/facilitator").text
    assert 'href="/account"' in page
    assert 'href="/account"' in world.fac.get("/coordinator").text
    assert 'href="/account"' in world.fac.get(f"/engagements/{world.engagement_id}").text


def test_the_account_choice_is_stored_and_changes_every_page_at_once(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    before = world.fac.get("/facilitator").text
    assert html_lang(before) == "da" and "Forløb" in before

    account = world.fac.get("/account")
    assert account.status_code == 200
    assert 'name="language" value="da" checked' in account.text
    r = world.fac.post(
        "/account",
        data={"csrf": form_csrf(account.text), "language": "en"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/account?saved=1"
    assert stored_language(world) == "en"

    saved = world.fac.get("/account?saved=1").text
    assert html_lang(saved) == "en" and "Saved." in saved
    assert 'name="language" value="en" checked' in saved
    for path in ("/facilitator", "/coordinator", f"/engagements/{world.engagement_id}"):
        page = world.fac.get(path).text
        assert html_lang(page) == "en", path
    assert "Engagements" in world.fac.get("/facilitator").text

    # Stored with the account, not only in this browser: another browser logs in.
    other = new_browser()
    log_in(other)
    assert html_lang(other.get("/facilitator").text) == "en"

    # And back to Danish.
    r = world.fac.post(
        "/account", data={"csrf": csrf_of(world.fac), "language": "da"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert stored_language(world) == "da"
    assert html_lang(world.fac.get("/facilitator").text) == "da"


def test_the_account_page_needs_a_login_the_token_and_a_known_language(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    nobody = new_browser()
    r = nobody.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert nobody.post("/account", data={"language": "en"}).status_code == 401

    assert world.fac.post("/account", data={"language": "en"}).status_code == 400
    r = world.fac.post("/account", data={"csrf": csrf_of(world.fac), "language": "fr"})
    assert r.status_code == 400
    assert stored_language(world) == "da"


# -- a visitor's switch -----------------------------------------------------------------------


def test_a_visitors_switch_sets_the_cookie_and_the_join_page_speaks_english(
    client: TestClient,
) -> None:
    front = client.get("/")
    assert html_lang(front.text) == "da" and "Koden fra skærmen" in front.text
    # The switch: one button per language, the page's own pressed, no script needed.
    assert 'action="/language"' in front.text
    assert re.search(r'value="en" lang="en" aria-pressed="false">English<', front.text)
    assert re.search(r'value="da" lang="da" aria-pressed="true">Dansk<', front.text)

    r = client.post(
        "/language",
        data={"csrf": form_csrf(front.text), "lang": "en", "next": "/?code=ABCD"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/?code=ABCD"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("tv_lang=en;") and "HttpOnly" in cookie and "Max-Age=" in cookie
    assert client.cookies.get("tv_lang") == "en"

    page = client.get("/?code=ABCD").text
    assert html_lang(page) == "en" and "Code from the screen" in page
    # It sticks: the login page too, and on the next visit.
    assert html_lang(client.get("/login").text) == "en"
    assert html_lang(client.get("/").text) == "en"


def test_the_switch_is_on_the_login_page_too(client: TestClient) -> None:
    login = client.get("/login").text
    assert 'action="/language"' in login and 'name="next" value="/login"' in login
    r = client.post(
        "/language",
        data={"csrf": form_csrf(login), "lang": "en", "next": "/login"},
        follow_redirects=True,
    )
    assert html_lang(r.text) == "en" and "Username" in r.text


def test_the_switch_needs_the_token_and_stays_on_this_site(client: TestClient) -> None:
    token = form_csrf(client.get("/").text)
    r = client.post("/language", data={"lang": "en", "next": "/"}, follow_redirects=False)
    assert r.status_code == 400 and "tv_lang" not in client.cookies
    r = client.post("/language", data={"csrf": token, "lang": "xx", "next": "/"})
    assert r.status_code == 400 and "tv_lang" not in client.cookies
    for elsewhere in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.post(
            "/language",
            data={"csrf": token, "lang": "en", "next": elsewhere},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/", elsewhere


def test_a_logged_in_user_who_uses_the_switch_changes_their_account(world: World) -> None:
    r = world.fac.post(
        "/language",
        data={"csrf": csrf_of(world.fac), "lang": "en", "next": "/facilitator"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/facilitator"
    assert stored_language(world) == "en"
