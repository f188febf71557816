"""Each session has its language: chosen when it is created, spoken by its live
screens (facilitator, projector, phones) and its minutes and journal note."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from server.engine import Actor, ActorRole, CommandRejected
from server.engine.commands import (
    AddAction,
    AddCard,
    EndSession,
    GoToStep,
    Join,
    RecordDecision,
    SetCaseOwner,
    StartSession,
)
from server.engine.registry import Command
from server.store.tables import Session
from tests.support import World, csrf_of, join

FAC = Actor(ActorRole.FACILITATOR, "user:1")


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found, page[:200]
    return found.group(1)


def create(world: World, script_id: str, language: str | None) -> Session:
    data = {"csrf": csrf_of(world.fac), "engagement_id": world.engagement_id}
    data["script_id"] = script_id
    if language is not None:
        data["language"] = language
    r = world.fac.post("/facilitator/sessions", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    row = world.fac.portal.call(world.services.repo.session, r.headers["location"].split("/")[-1])
    assert isinstance(row, Session)
    return row


def submit(world: World, session_id: str, *commands: Command) -> None:
    live = world.fac.portal.call(world.services.live.get, session_id)
    assert live is not None
    for cmd in commands:
        out = world.fac.portal.call(live.submit, cmd)
        assert not isinstance(out, CommandRejected), out


def test_both_create_forms_offer_the_sessions_language(world: World) -> None:
    for path in ("/facilitator", f"/engagements/{world.engagement_id}"):
        page = world.fac.get(path).text
        form = page[page.index('action="/facilitator/sessions"') :]
        form = form[: form.index("</form>")]
        assert 'name="language"' in form, path
        # The default is the script's own language; the languages by their own names.
        assert re.search(
            r'<option value="">[^<]+</option>\s*<option value="da" lang="da">Dansk', form
        )
        assert '<option value="en" lang="en">English</option>' in form


def test_without_a_choice_the_session_speaks_its_scripts_language(world: World) -> None:
    assert create(world, "kvifa", None).language == "da"
    assert create(world, "kvifa", "").language == "da"
    english = create(world, "kvifa-en", "")
    assert (english.language, english.script_id) == ("en", "kvifa-en")


def test_english_picks_the_scripts_english_version_where_one_is_shipped(world: World) -> None:
    row = create(world, "kvifa", "en")
    assert (row.language, row.script_id, row.title) == ("en", "kvifa-en", "Team sparring (Kvifa)")
    # And back: the English script in a Danish session runs the Danish version.
    row = create(world, "kvifa-en", "da")
    assert (row.language, row.script_id) == ("da", "kvifa")
    # No English version: the screens speak English, the script's text stays as written.
    row = create(world, "hoering", "en")
    assert (row.language, row.script_id) == ("en", "hoering")


def test_an_unknown_language_is_refused(world: World) -> None:
    data = {
        "csrf": csrf_of(world.fac),
        "engagement_id": world.engagement_id,
        "script_id": "kvifa",
        "language": "de",
    }
    r = world.fac.post("/facilitator/sessions", data=data, follow_redirects=False)
    assert r.status_code == 400


def test_a_session_created_in_english_speaks_english_on_every_live_screen(
    world: World, new_browser: Callable[[], TestClient]
) -> None:
    # The facilitator's own pages are Danish; the session is English.
    assert html_lang(world.fac.get("/facilitator").text) == "da"
    row = create(world, "opstartsworkshop", "en")
    assert row.language == "en"

    facilitator = world.fac.get(f"/facilitator/sessions/{row.id}").text
    assert html_lang(facilitator) == "en"
    assert "Open projector" in facilitator

    projector = new_browser().get(f"/projector/{row.id}?key={world.services.projector_key(row.id)}")
    assert projector.status_code == 200
    assert html_lang(projector.text) == "en" and "QR code for joining" in projector.text

    phone = new_browser()
    door = phone.get(f"/j/{row.join_code}").text
    assert html_lang(door) == "en" and "Code from the screen" in door
    live = join(phone, row.join_code)
    assert html_lang(live) == "en"


def test_a_session_created_in_english_has_english_minutes_and_journal_note(world: World) -> None:
    row = create(world, "kvifa", "en")
    owner, colleague = Actor(ActorRole.PARTICIPANT, "m"), Actor(ActorRole.PARTICIPANT, "s")
    live = world.fac.portal.call(world.services.live.get, row.id)
    assert live is not None
    for actor, name in ((owner, "Mette"), (colleague, "Søren")):
        out = world.fac.portal.call(live.submit, Join(actor=actor, name=name))
        if isinstance(out, CommandRejected):  # a case meeting's lobby: ask, then let in
            from server.engine import lobby

            submit(
                world,
                row.id,
                lobby.AskToJoin(actor=actor, name=name),
                lobby.Admit(actor=FAC, participant_id=actor.id),
            )
    submit(
        world,
        row.id,
        StartSession(actor=FAC),
        SetCaseOwner(actor=FAC, participant_id="m"),
        GoToStep(actor=FAC, step_id="proposals"),
        AddCard(actor=colleague, card_id="c1", text="A talk with the child at school"),
        GoToStep(actor=FAC, step_id="decision"),
        RecordDecision(actor=FAC, decision_id="d1", text="A network meeting within two weeks"),
        AddAction(actor=FAC, action_id="a1", what="Invite", who="Mette", due="2026-11-26"),
    )
    base = f"/facilitator/sessions/{row.id}"
    # The live screen writes the due date as English does.
    assert "Invite · <strong>Mette</strong> · 26/11/2026" in world.fac.get(base).text
    submit(world, row.id, EndSession(actor=FAC))
    note = world.fac.get(f"{base}/journal-note.txt")
    assert note.status_code == 200
    assert note.text.startswith("Journal note: ")
    assert "\nDate: " in note.text and "Decision:" in note.text
    assert "A network meeting within two weeks" in note.text
    assert "due: 26/11/2026" in note.text
    assert 'filename="journal-note-team-sparring-kvifa-' in note.headers["content-disposition"]

    markdown = world.fac.get(f"{base}/minutes.md").text
    assert "Decisions" in markdown or "Decision" in markdown
    assert "Beslutning" not in markdown
