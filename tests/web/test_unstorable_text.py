"""One participant's unstorable text cannot make anybody else's commands fail (issue 14).

A card whose text holds a lone surrogate (the JSON escape "x\\ud800y") used to
pass the edge and the engine and then fail the whole batch when the event log
encoded it: every phone whose card was in that batch was told the server was
busy. Now the message is refused at the edge with a reason, and the other
phones' cards are acknowledged and stored. Form posts cannot carry one at all
(Starlette decodes percent escapes with replacement characters); they are
checked here too, so that stays true.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable

from starlette.testclient import TestClient

from server.engagement import store
from server.engine.events import CardAdded, DecisionEdited, ParticipantJoined
from server.engine.text import storable
from server.i18n import translations
from tests.support import World, csrf_of, join
from tests.web.test_coordinator import kvifa
from tests.web.test_live import receive_until

LONE_ESCAPE = "x\\ud800y"  # as it is in the raw JSON: six characters, not a str escape
REASON = (
    "The text holds a character that cannot be saved (perhaps half an emoji). "
    "Remove it and try again."
)
PHONES = 4
CARDS = 6


def flashes(ws, count: int, limit: int = 400) -> list[str]:  # type: ignore[no-untyped-def]
    """The next `count` replies (flashes) the screen gets, skipping fragments."""
    got: list[str] = []
    for _ in range(limit):
        message = ws.receive_text()
        if 'class="flash flash-' in message:
            got.append(message)
            if len(got) == count:
                return got
    raise AssertionError(f"only {len(got)} of {count} replies: {got!r}"[:2000])


def test_a_lone_surrogate_card_fails_nobody_elses_card(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("kvifa")
    phones = [new_browser() for _ in range(PHONES + 1)]
    for i, phone in enumerate(phones):
        join(phone, code, f"Deltager {i}")
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    card_step = next(s for s in live.state.script.steps if s.cards)
    lang = world.fac.portal.call(world.services.room, session_id).lang  # type: ignore[union-attr]
    saved = translations(lang).gettext("Saved.")
    reason = translations(lang).gettext(REASON)
    assert reason != REASON or lang == "en"  # translated
    with contextlib.ExitStack() as stack:
        fac = stack.enter_context(world.fac.websocket_connect(f"/ws/{session_id}/facilitator"))
        fac.receive_text()
        fac.send_text(json.dumps({"type": "start_session"}))
        fac.send_text(json.dumps({"type": "go_to_step", "step_id": card_step.id}))
        mobs = [
            stack.enter_context(p.websocket_connect(f"/ws/{session_id}/participant"))
            for p in phones
        ]
        *good, bad = mobs
        for mob in mobs:  # the card step is open on every phone
            receive_until(mob, 'name="card_id"')
        # The cards arrive interleaved, as from phones in the same second.
        for n in range(CARDS):
            for i, mob in enumerate(good):
                mob.send_text(
                    json.dumps({"type": "add_card", "card_id": f"c{i}-{n}", "text": f"Kort {n}"})
                )
            bad.send_text(f'{{"type": "add_card", "card_id": "bad-{n}", "text": "{LONE_ESCAPE}"}}')
        for i, mob in enumerate(good):
            replies = flashes(mob, CARDS)
            assert all("flash-ok" in r and saved in r for r in replies), (i, replies)
        replies = flashes(bad, CARDS)
        assert all("flash-error" in r and reason in r for r in replies), replies
    events = world.fac.portal.call(world.services.eventlog.load, session_id)
    stored = sorted(e.card_id for e in events if isinstance(e, CardAdded))
    assert stored == sorted(f"c{i}-{n}" for i in range(PHONES) for n in range(CARDS))


# -- form posts: a percent-escaped surrogate becomes replacement characters, never a 500 ---------

SURROGATE_BYTES = "%ED%A0%80"  # what U+D800 would be, were it encodable


def form(csrf: str, **fields: str) -> bytes:
    """A urlencoded body whose values are sent as given (already escaped)."""
    return "&".join(f"{k}={v}" for k, v in {"csrf": csrf, **fields}.items()).encode()


URLENCODED = {"content-type": "application/x-www-form-urlencoded"}


def test_a_surrogate_in_a_join_form_is_not_a_server_error(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    session_id, code = world.create_session("implementeringsworkshop")  # no lobby
    phone = new_browser()
    page = phone.get(f"/j/{code}")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = phone.post(
        "/join",
        content=form(token.group(1), code=code, name=f"Bo{SURROGATE_BYTES}"),
        headers=URLENCODED,
    )
    assert r.status_code < 500
    events = world.fac.portal.call(world.services.eventlog.load, session_id)
    names = [e.name for e in events if isinstance(e, ParticipantJoined) and e.name]
    assert names and all(storable(n) for n in names)


def test_a_surrogate_in_an_engagement_form_is_not_a_server_error(world: World) -> None:
    eid = world.engagement_id
    for body, headers in (
        (form(csrf_of(world.fac), title=f"Tidlig{SURROGATE_BYTES}indsats"), URLENCODED),
        (
            b'--B\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
            + csrf_of(world.fac).encode()
            + b'\r\n--B\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
            + b"Sen\xed\xa0\x80indsats\r\n--B--\r\n",
            {"content-type": "multipart/form-data; boundary=B"},
        ),
    ):
        r = world.fac.post(f"/engagements/{eid}/focus-areas", content=body, headers=headers)
        assert r.status_code < 500, r.text[:500]
    # (a multipart post may be refused where no file is taken: never with a 500)
    areas = world.fac.portal.call(store.focus_areas_of, world.services.repo, eid)
    assert areas and all(storable(a.title) for a in areas)


def test_a_surrogate_in_a_minutes_edit_is_not_a_server_error(world: World) -> None:
    session_id = kvifa(world)
    r = world.fac.post(
        f"/facilitator/sessions/{session_id}/minutes/decisions/d2",
        content=form(csrf_of(world.fac), text=f"Omformuleret{SURROGATE_BYTES}"),
        headers=URLENCODED,
        follow_redirects=False,
    )
    assert r.status_code == 303
    events = world.fac.portal.call(world.services.eventlog.load, session_id)
    edited = [e for e in events if isinstance(e, DecisionEdited)]
    assert len(edited) == 1 and storable(edited[0].text)


def test_a_lone_surrogate_in_a_utf16_case_register_is_not_a_server_error(world: World) -> None:
    eid = world.engagement_id
    rows = "Sag;Forklæde\nSag 1;Udvalgt x".encode("utf-16-le")
    data = b"\xff\xfe" + rows + b"\x00\xd8" + "y\n".encode("utf-16-le")  # a lone U+D800
    r = world.fac.post(
        f"/engagements/{eid}/cases/import",
        data={"csrf": csrf_of(world.fac)},
        files={"file": ("sagsregister.csv", data, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code < 500, r.text[:500]
    page = world.fac.get(r.headers["location"]).text if r.status_code == 303 else r.text
    note = "Some characters in the file could not be read; they show as �."
    assert any(translations(lang).gettext(note) in page for lang in ("da", "en")), page[:3000]
    cases = world.fac.portal.call(store.cases_of, world.services.repo, eid)
    assert [c.label for c in cases] == ["Sag 1"]
    assert all(storable(str(value)) for c in cases for value in c.model_dump().values())
