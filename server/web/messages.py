"""Websocket messages from screens -> engine commands, checked field by field.

A message is a JSON object with a "type" and that type's fields (htmx's
ws-send sends form values as strings, hx-vals may send numbers). Anything
else is refused with a reason; nothing here raises for any input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from server.engine import commands as c
from server.engine.registry import Command, CommandRejected
from server.engine.state import Actor, ActorRole
from server.engine.steps import case_walkthrough as cw
from server.engine.steps import poll as v
from server.engine.steps import round as r
from server.engine.text import storable, unstorable

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POLL_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
BALLOT_ITEMS = v.MAX_OPTIONS
OPTION_ID_MAX = 64


class BadMessage(Exception):
    """The message cannot become a command; the text says why (English msgid)."""


def _str(data: dict[str, Any], key: str, *, limit: int = 4000, required: bool = True) -> str:
    value = data.get(key, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadMessage("The message is malformed.")
    if required and not value.strip():
        raise BadMessage("Something is missing in the message.")
    return value[: limit + 1]


def _id(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not ID.match(value):
        raise BadMessage("The message is malformed.")
    return value


def _opt_id(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, "") else _id(data, key)


def _number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise BadMessage("The message is malformed.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadMessage("Give a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadMessage("Give a number.")
    return number


def _poll_id(data: dict[str, Any]) -> str:
    value = data.get("poll_id")
    if not isinstance(value, str) or not POLL_ID.match(value):
        raise BadMessage("The message is malformed.")
    return value


def _option_ids(data: dict[str, Any], key: str) -> tuple[str, ...]:
    """A list of option ids (a JSON list, or one string of ids separated by spaces/commas)."""
    value = data.get(key)
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,]+", value) if part]
    if not isinstance(value, list) or len(value) > BALLOT_ITEMS:
        raise BadMessage("The message is malformed.")
    if not all(isinstance(item, str) and 0 < len(item) <= OPTION_ID_MAX for item in value):
        raise BadMessage("The message is malformed.")
    return tuple(value)


def _whole(value: object) -> int:
    if isinstance(value, bool):
        raise BadMessage("The ballot is malformed.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e9:
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    raise BadMessage("The ballot is malformed.")


def _payload(data: dict[str, Any]) -> list[str] | dict[str, int]:
    """A ballot's shape: option ids (choice, approval, rank) or a number per option.

    Only the shape is checked here; what the poll allows is the engine's to say.
    """
    value = data.get("payload")
    if isinstance(value, list):
        return list(_option_ids(data, "payload"))
    if isinstance(value, dict) and len(value) <= BALLOT_ITEMS:
        numbers: dict[str, int] = {}
        for key, number in value.items():
            if not (isinstance(key, str) and 0 < len(key) <= OPTION_ID_MAX):
                raise BadMessage("The ballot is malformed.")
            numbers[key] = _whole(number)
        return numbers
    raise BadMessage("The ballot is malformed.")


def _all_storable(data: object) -> bool:
    """Whether every string in the message, keys and nested ones too, can be stored.

    Checked once here for all fields, so no field's text (a card, an option id in
    a ballot, a deadline) can reach the log with a lone surrogate. No recursion:
    what json.loads could nest, this walks.
    """
    waiting = [data]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if not storable(item):
                return False
        elif isinstance(item, dict):
            waiting.extend(item)
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return True


def _index(data: dict[str, Any], key: str) -> int:
    number = _number(data, key)
    if number is None or number != int(number) or not 0 <= number < 10_000:
        raise BadMessage("The message is malformed.")
    return int(number)


Build = Callable[[Actor, dict[str, Any]], Command]


@dataclass(frozen=True)
class Kind:
    build: Build
    who: frozenset[ActorRole]


F = frozenset({ActorRole.FACILITATOR})
P = frozenset({ActorRole.PARTICIPANT})
FP = F | P


def _minutes(data: dict[str, Any]) -> float:
    return _number(data, "minutes") or 1.0


MESSAGES: dict[str, Kind] = {
    "start_session": Kind(lambda a, d: c.StartSession(actor=a), F),
    "end_session": Kind(lambda a, d: c.EndSession(actor=a), F),
    "reopen_session": Kind(lambda a, d: c.ReopenSession(actor=a), F),
    "next_step": Kind(lambda a, d: c.NextStep(actor=a, from_step=_opt_id(d, "from_step")), F),
    "previous_step": Kind(
        lambda a, d: c.PreviousStep(actor=a, from_step=_opt_id(d, "from_step")), F
    ),
    "go_to_step": Kind(lambda a, d: c.GoToStep(actor=a, step_id=_id(d, "step_id")), F),
    "start_timer": Kind(lambda a, d: c.StartTimer(actor=a, minutes=_number(d, "minutes")), F),
    "pause_timer": Kind(lambda a, d: c.PauseTimer(actor=a), F),
    "extend_timer": Kind(lambda a, d: c.ExtendTimer(actor=a, minutes=_minutes(d)), F),
    "reset_timer": Kind(lambda a, d: c.ResetTimer(actor=a), F),
    "set_case_owner": Kind(
        lambda a, d: c.SetCaseOwner(actor=a, participant_id=_opt_id(d, "participant_id")), F
    ),
    "remove_participant": Kind(
        lambda a, d: c.RemoveParticipant(actor=a, participant_id=_id(d, "participant_id")), F
    ),
    "next_speaker": Kind(
        lambda a, d: r.NextSpeaker(actor=a, from_speaker=_opt_id(d, "from_speaker")), F
    ),
    "skip_speaker": Kind(
        lambda a, d: r.SkipSpeaker(actor=a, from_speaker=_opt_id(d, "from_speaker")), F
    ),
    "next_case": Kind(lambda a, d: cw.NextCase(actor=a, from_case=_opt_id(d, "from_case")), F),
    "previous_case": Kind(
        lambda a, d: cw.PreviousCase(actor=a, from_case=_opt_id(d, "from_case")), F
    ),
    "go_to_case": Kind(lambda a, d: cw.GoToCase(actor=a, index=_index(d, "index")), F),
    "add_card": Kind(
        lambda a, d: c.AddCard(actor=a, card_id=_id(d, "card_id"), text=_str(d, "text")), FP
    ),
    "withdraw_card": Kind(lambda a, d: c.WithdrawCard(actor=a, card_id=_id(d, "card_id")), FP),
    "add_cluster": Kind(
        lambda a, d: c.AddCluster(actor=a, cluster_id=_id(d, "cluster_id"), title=_str(d, "title")),
        F,
    ),
    "group_card": Kind(
        lambda a, d: c.GroupCard(
            actor=a, card_id=_id(d, "card_id"), cluster_id=_opt_id(d, "cluster_id")
        ),
        F,
    ),
    "record_decision": Kind(
        lambda a, d: c.RecordDecision(
            actor=a,
            decision_id=_id(d, "decision_id"),
            text=_str(d, "text"),
            decided_by=_str(d, "decided_by", required=False),
        ),
        F,
    ),
    "add_action": Kind(
        lambda a, d: c.AddAction(
            actor=a,
            action_id=_id(d, "action_id"),
            what=_str(d, "what"),
            who=_str(d, "who"),
            due=_str(d, "due", limit=40, required=False) or None,
        ),
        F,
    ),
    # -- polls -------------------------------------------------------------------------
    "open_poll": Kind(lambda a, d: v.OpenPoll(actor=a, poll_id=_poll_id(d)), F),
    "close_poll": Kind(lambda a, d: v.ClosePoll(actor=a, poll_id=_poll_id(d)), F),
    "publish_poll": Kind(lambda a, d: v.PublishPoll(actor=a, poll_id=_poll_id(d)), F),
    "reopen_poll": Kind(lambda a, d: v.ReopenPoll(actor=a, poll_id=_poll_id(d)), F),
    "add_poll_option": Kind(
        lambda a, d: v.AddPollOption(
            actor=a,
            poll_id=_poll_id(d),
            option_id=_id(d, "option_id"),
            label=_str(d, "label", limit=v.LABEL_MAX),
        ),
        F,
    ),
    "remove_poll_option": Kind(
        lambda a, d: v.RemovePollOption(
            actor=a, poll_id=_poll_id(d), option_id=_str(d, "option_id", limit=OPTION_ID_MAX)
        ),
        F,
    ),
    "start_runoff": Kind(
        lambda a, d: v.StartRunoff(
            actor=a, poll_id=_poll_id(d), option_ids=_option_ids(d, "option_ids")
        ),
        F,
    ),
    "assign_horizon": Kind(
        lambda a, d: v.AssignHorizon(
            actor=a,
            poll_id=_poll_id(d),
            option_id=_str(d, "option_id", limit=OPTION_ID_MAX),
            horizon=_str(d, "horizon", limit=20, required=False),
            owner=_str(d, "owner", limit=v.LABEL_MAX, required=False),
        ),
        F,
    ),
    # The voter is the edge's to set (see parse): the participant id or a pseudonym.
    "cast_ballot": Kind(
        lambda a, d: v.CastBallot(
            actor=a,
            poll_id=_poll_id(d),
            ballot_id=_id(d, "ballot_id"),
            voter="",
            payload=_payload(d),
        ),
        P,
    ),
    "retract_ballot": Kind(lambda a, d: v.RetractBallot(actor=a, poll_id=_poll_id(d), voter=""), P),
}

Voter = Callable[[str], str]
"""poll id -> the voter this screen's participant votes as (see server/web/voters.py)."""


def N_(text: str) -> str:
    """Marks text for translation where it is written; translated where it is shown."""
    return text


def parse(raw: str | bytes, actor: Actor, *, voter: Voter | None = None) -> Command:
    """The command a message asks for, or BadMessage with a reason.

    Ballots need `voter`: the edge, not the message, says who votes, so a phone
    can neither vote as somebody else nor learn anybody's pseudonym.
    """
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadMessage("The message is malformed.") from None
    if not isinstance(data, dict):
        raise BadMessage("The message is malformed.")
    if not _all_storable(data):
        raise BadMessage(unstorable().reason)
    name = data.get("type")
    kind = MESSAGES.get(name) if isinstance(name, str) else None
    if kind is None:
        raise BadMessage("This action is not known.")
    if actor.role not in kind.who:
        raise BadMessage("You cannot do that from this screen.")
    command = kind.build(actor, data)
    if isinstance(command, v.CastBallot | v.RetractBallot):
        if voter is None:
            raise BadMessage("You cannot do that from this screen.")
        command = replace(command, voter=voter(command.poll_id))
    return command


def ack_text(command: Command) -> str:
    """What a participant is told once their command is committed.

    Also for a resend the log already has (no new events): it is saved.
    """
    if isinstance(command, v.CastBallot):
        return N_("Your vote is saved.")
    if isinstance(command, v.RetractBallot):
        return N_("Your vote is withdrawn.")
    return N_("Saved.")


def refusal_text(command: Command, refused: CommandRejected) -> str:
    """Why a command was refused, said for the screen that sent it."""
    if isinstance(command, v.CastBallot) and refused.code in ("poll_closed", "poll_published"):
        return N_("The vote closed before your ballot arrived, so it was not counted.")
    return refused.reason
