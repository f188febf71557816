"""The replies a screen gets over its websocket (server/web/ws.py)."""

from __future__ import annotations

import pytest

from server.web.templating import render
from server.web.ws import flash

BUSY = "The server is busy. Your last action was not saved; please try again."


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("ack", [None, "b-123", "a\"<b>&'"])
def test_a_kept_flash_is_the_flash_rendered_afresh(lang: str, ack: str | None) -> None:
    for _ in range(2):  # the second comes from the kept rendering
        assert flash(lang, BUSY, "ok", ack=ack) == render(
            lang, "_partials/flash.html", message=BUSY, params={}, kind="ok", ack=ack
        )


def test_the_ballot_id_is_escaped_into_the_reply() -> None:
    html = flash("en", BUSY, ack='x"><script>')
    assert 'data-ack="x&#34;&gt;&lt;script&gt;"' in html
    assert "<script>" not in html


def test_the_reply_to_a_card_names_it() -> None:
    """The phone shows a card as waiting until a reply names its id (static/js/app.js)."""
    from server.engine import Actor, ActorRole
    from server.engine.commands import AddCard
    from server.web.ws import _ack

    card = AddCard(actor=Actor(ActorRole.PARTICIPANT, "p1"), card_id="c-42", text="Et kort")
    assert _ack(card) == "c-42"
    assert 'data-ack="c-42"' in flash("da", "Saved.", "ok", ack=_ack(card))
