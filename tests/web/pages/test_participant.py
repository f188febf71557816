"""A phone's language: the join form follows the visitor's own choice, the live
page its session's language (everyone in the room sees the same)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from tests.support import World, join


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found, page[:200]
    return found.group(1)


def test_the_join_form_follows_the_phone_the_live_page_the_session(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    _, code = world.create_session("opstartsworkshop")  # a Danish session
    danish_phone = new_browser()
    assert html_lang(danish_phone.get(f"/j/{code}").text) == "da"

    visitor = new_browser()
    visitor.cookies.set("tv_lang", "en")
    door = visitor.get(f"/j/{code}").text
    assert html_lang(door) == "en" and "Code from the screen" in door
    assert html_lang(join(visitor, code)) == "da"
