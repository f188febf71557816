"""Text that cannot be stored is refused where it comes in, with a reason (issue 14).

A lone surrogate ("x\\ud800y" as a JSON escape) is a valid Python str but has no
UTF-8 encoding, so the event log could never write it. Every piece of free text
passes `clean`; every string of a websocket message passes the parser's check.
"""

from __future__ import annotations

import json

import pytest

from server.engine import Actor, ActorRole, CommandRejected
from server.engine import commands as c
from server.engine.steps import poll as pl
from server.engine.text import clean, storable
from server.store.eventlog import encode
from server.web.messages import BadMessage, parse
from tests.engine.steps_helpers import FAC, Run, p

LONE = "x\ud800y"
REASON = (
    "The text holds a character that cannot be saved (perhaps half an emoji). "
    "Remove it and try again."
)


@pytest.mark.parametrize("text", [LONE, "\udfff", "hej \udc80", "smil \ud83d", "\ud800" * 3])
def test_clean_refuses_a_lone_surrogate_with_a_reason(text: str) -> None:
    assert not storable(text)
    out = clean(text)
    assert isinstance(out, CommandRejected)
    assert (out.code, out.reason) == ("unstorable", REASON)


def test_whole_characters_outside_the_basic_plane_are_kept() -> None:
    emoji = json.loads('"smil \\ud83d\\ude00"')  # a pair: one character
    assert emoji == "smil \U0001f600" and storable(emoji)
    assert clean(emoji) == (emoji, 0)


def test_a_lone_surrogate_card_is_refused_and_nothing_is_stored() -> None:
    run = Run().start("a", step="ideer")
    stored = len(run.log)
    refused = run.no(c.AddCard(actor=p("a"), card_id="k1", text=LONE))
    assert (refused.code, refused.reason) == ("unstorable", REASON)
    # the other free text of the session passes the same check
    for cmd in (
        c.Join(actor=p("b"), name=LONE),
        c.AddCluster(actor=FAC, cluster_id="g1", title=LONE),
    ):
        assert run.no(cmd).code == "unstorable", cmd
    assert len(run.log) == stored
    run.ok(c.GoToStep(actor=FAC, step_id="fri"))
    stored = len(run.log)
    option = pl.AddPollOption(actor=FAC, poll_id="fri", option_id="o", label=LONE)
    assert run.no(option).code == "unstorable"
    assert len(run.log) == stored
    for event in run.log:  # what was stored can be written
        encode(event)


PHONE = Actor(ActorRole.PARTICIPANT, "p1")


def voter(poll_id: str) -> str:
    return "v1"


@pytest.mark.parametrize(
    ("actor", "raw"),
    [
        (PHONE, '{"type": "add_card", "card_id": "c1", "text": "x\\ud800y"}'),
        (PHONE, b'{"type": "add_card", "card_id": "c1", "text": "\\udc00"}'),
        (PHONE, '{"type": "add_card", "card_id": "c1", "text": "ok", "x": [{"y": "\\ud800"}]}'),
        (PHONE, '{"type": "add_card", "card_id": "c1", "text": "ok", "\\ud800": 1}'),
        (
            PHONE,
            '{"type": "cast_ballot", "poll_id": "p", "ballot_id": "b", "payload": ["\\ud800"]}',
        ),
        (
            PHONE,
            '{"type": "cast_ballot", "poll_id": "p", "ballot_id": "b", "payload": {"\\ud800": 1}}',
        ),
        (FAC, '{"type": "remove_poll_option", "poll_id": "p", "option_id": "\\ud800"}'),
        (FAC, '{"type": "assign_horizon", "poll_id": "p", "option_id": "o", "horizon": "\\ud800"}'),
        (
            FAC,
            '{"type": "add_action", "action_id": "a", "what": "w", "who": "h", "due": "\\ud800"}',
        ),
        (
            FAC,
            '{"type": "record_decision", "decision_id": "d", "text": "t", "decided_by": "\\udfff"}',
        ),
    ],
)
def test_the_message_parser_refuses_unstorable_text_in_any_field(
    actor: Actor, raw: str | bytes
) -> None:
    with pytest.raises(BadMessage) as refused:
        parse(raw, actor, voter=voter)
    assert str(refused.value) == REASON


def test_the_message_parser_takes_whole_characters() -> None:
    raw = '{"type": "add_card", "card_id": "c1", "text": "smil \\ud83d\\ude00"}'
    command = parse(raw, PHONE, voter=voter)
    assert isinstance(command, c.AddCard) and command.text == "smil \U0001f600"
