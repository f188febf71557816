"""decide(state, command, now) -> events | CommandRejected. Pure: no I/O, no clock.

No CPR number gets into an event: free text (FREE_TEXT below) is masked by its
handler with `clean`, and every other text a command carries is an id or a
choice, which is refused if it holds one (`_id_holds_cpr`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from server.engine import steps as _steps  # noqa: F401  (registers the step kinds)
from server.engine.commands import (
    AddAction,
    AddCard,
    AddCluster,
    AgreeNextMeeting,
    EditAction,
    EditCard,
    EditDecision,
    EndSession,
    ExtendTimer,
    GoToStep,
    GroupCard,
    Join,
    NextStep,
    PauseTimer,
    PreviousStep,
    RecordDecision,
    ReopenSession,
    ResetTimer,
    SetCaseOwner,
    SetRole,
    StartSession,
    StartTimer,
    WithdrawCard,
)
from server.engine.events import (
    ActionAdded,
    ActionEdited,
    CardAdded,
    CardEdited,
    CardGrouped,
    CardWithdrawn,
    CaseOwnerSet,
    ClusterAdded,
    DecisionEdited,
    DecisionRecorded,
    NextMeetingAgreed,
    ParticipantJoined,
    ParticipantRenamed,
    RoleSet,
    SessionEnded,
    SessionStarted,
    StepEntered,
    TimerExtended,
    TimerPaused,
    TimerReset,
    TimerStarted,
)
from server.engine.reason import Reason
from server.engine.registry import (
    CARD_RULES,
    ENTER_HOOKS,
    HANDLERS,
    Command,
    CommandRejected,
    Event,
    Outcome,
    handles,
)
from server.engine.state import (
    Actor,
    ActorRole,
    KeptTimer,
    SessionState,
    SessionStatus,
    TimerStatus,
)
from server.engine.steps._checks import facilitator_only, running
from server.engine.text import CARD_MAX, NAME_MAX, clean
from server.privacy.cpr import find_cpr
from server.scripts.schema import CARDS_PER_PARTICIPANT, Step

MAX_PARTICIPANTS = 5000
MAX_CARDS = 5000
DUE_MAX = 40
ALLOWED_AFTER_END = (EditDecision, EditAction, ReopenSession)

FREE_TEXT = frozenset(
    {"name", "text", "title", "decided_by", "what", "who", "due", "label", "owner", "date", "goals"}
)
"""Command fields that hold what people write: each handler masks them with `clean`."""

# What screens and the server make as ids: random hex (client ids, participant ids,
# pseudonyms). Ten digits in a row that happen to form a date are chance there (about
# one id in a thousand), not somebody's CPR number, and refusing them would lose cards.
_RANDOM_TOKEN = re.compile(r"[0-9a-f]{16,}")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _id_holds_cpr(command: Command) -> bool:
    """True if an id or choice in the command (anything but FREE_TEXT) holds a CPR number."""
    for field in dataclasses.fields(command):
        if field.name == "actor" or field.name in FREE_TEXT:
            continue
        for text in _strings(getattr(command, field.name)):
            if not _RANDOM_TOKEN.fullmatch(text) and find_cpr(text):
                return True
    return False


def decide(state: SessionState, command: Command, now: float) -> Outcome:
    handler = HANDLERS.get(type(command))
    if handler is None:
        return CommandRejected("This action is not known.", "unknown")
    if state.status is SessionStatus.ENDED and not isinstance(command, ALLOWED_AFTER_END):
        return CommandRejected("The session has ended.", "ended")
    if _id_holds_cpr(command):
        return CommandRejected("The message is malformed.", "invalid")
    return handler(state, command, now)


def participant_in(state: SessionState, command: Command) -> CommandRejected | None:
    actor = command.actor
    if actor.is_facilitator or actor.id in state.participants:
        return None
    return CommandRejected("Join the session first.", "not_joined")


# -- the session and its steps -------------------------------------------------


def enter_step(state: SessionState, index: int, now: float) -> list[Event]:
    step = state.script.steps[index]
    events: list[Event] = [StepEntered(at=now, step_id=step.id, index=index)]
    kept = state.kept_timers.get(step.id)
    if kept is not None:
        events.extend(restore_timer(kept, now))
    elif step.timebox:
        seconds = step.timebox * 60
        events.append(TimerReset(at=now, duration=seconds))
        events.append(TimerStarted(at=now, duration=seconds, deadline=now + seconds))
    else:
        events.append(TimerReset(at=now, duration=0.0))
    hook = ENTER_HOOKS.get(step.kind)
    if hook is not None:
        events.extend(hook(state, step, now))
    return events


def restore_timer(kept: KeptTimer, now: float) -> list[Event]:
    """A step returned to gets its timer back as it was left: running on from what
    was left (an overtime goes on counting), paused at what was left, or not
    started; the time spent on other steps does not count. ResetTimer gives the
    step's full time back."""
    events: list[Event] = [TimerReset(at=now, duration=kept.duration)]
    if kept.status is TimerStatus.RUNNING:
        deadline = now + kept.left
        events.append(TimerStarted(at=now, duration=kept.duration, deadline=deadline))
    elif kept.status is TimerStatus.PAUSED or kept.left != kept.duration:
        events.append(TimerPaused(at=now, remaining=max(0.0, kept.left)))
    return events


@handles(StartSession)
def _start(state: SessionState, cmd: StartSession, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    if state.status is SessionStatus.RUNNING:
        return []
    return [SessionStarted(at=now), *enter_step(state, 0, now)]


@handles(EndSession)
def _end(state: SessionState, cmd: EndSession, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    return [SessionEnded(at=now)]


@handles(ReopenSession)
def _reopen_session(state: SessionState, cmd: ReopenSession, now: float) -> Outcome:
    """The session runs again at the step it ended on; the step's timer is set
    back to its full time and waits for the facilitator to start it."""
    if err := facilitator_only(cmd):
        return err
    if state.status is not SessionStatus.ENDED:
        return []  # a repeat, or nothing to reopen
    index = state.current or 0
    step = state.script.steps[index]
    return [
        SessionStarted(at=now),
        StepEntered(at=now, step_id=step.id, index=index),
        TimerReset(at=now, duration=(step.timebox or 0) * 60.0),
    ]


def _move(state: SessionState, cmd: Command, target: int, seen: str | None, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    if seen is not None and seen != state.step_id:
        return []  # a repeat of a move that already happened: idempotent
    if not 0 <= target < len(state.script.steps):
        return CommandRejected("There is no step in that direction.", "no_step")
    if target == state.current:
        return []
    return enter_step(state, target, now)


@handles(GoToStep)
def _goto(state: SessionState, cmd: GoToStep, now: float) -> Outcome:
    index = state.script.index_of(cmd.step_id)
    if index is None:
        return CommandRejected("That step does not exist.", "unknown_step")
    return _move(state, cmd, index, None, now)


@handles(NextStep)
def _next(state: SessionState, cmd: NextStep, now: float) -> Outcome:
    return _move(state, cmd, (state.current or 0) + 1, cmd.from_step, now)


@handles(PreviousStep)
def _previous(state: SessionState, cmd: PreviousStep, now: float) -> Outcome:
    return _move(state, cmd, (state.current or 0) - 1, cmd.from_step, now)


# -- the timer -------------------------------------------------------------------


def _minutes(value: object, *, low: float = 0.1, high: float = 600) -> float | CommandRejected:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return CommandRejected("Give the time in minutes.", "invalid")
    if not low <= value <= high:  # compared before float(): a huge int would overflow
        reason = Reason(
            "The time must be between %(low)s and %(high)s minutes.", low=low, high=high
        )
        return CommandRejected(reason, "invalid")
    return float(value)


@handles(StartTimer)
def _start_timer(state: SessionState, cmd: StartTimer, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    timer = state.timer
    if cmd.minutes is not None:
        minutes = _minutes(cmd.minutes)
        if isinstance(minutes, CommandRejected):
            return minutes
        seconds = minutes * 60
        return [
            TimerReset(at=now, duration=seconds),
            TimerStarted(at=now, duration=seconds, deadline=now + seconds),
        ]
    if timer.status is TimerStatus.RUNNING:
        return []
    if timer.remaining <= 0:
        return CommandRejected("Set a time for the timer first.", "no_time")
    return [TimerStarted(at=now, duration=timer.duration, deadline=now + timer.remaining)]


@handles(PauseTimer)
def _pause_timer(state: SessionState, cmd: PauseTimer, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    if state.timer.status is not TimerStatus.RUNNING:
        return []
    return [TimerPaused(at=now, remaining=state.timer.remaining_at(now))]


@handles(ExtendTimer)
def _extend_timer(state: SessionState, cmd: ExtendTimer, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    minutes = _minutes(cmd.minutes, low=-60, high=120)
    if isinstance(minutes, CommandRejected):
        return minutes
    if minutes < 0 and state.timer.remaining_at(now) <= 0:
        return []  # at 00:00 or in overtime there is nothing left to take off
    return [TimerExtended(at=now, seconds=minutes * 60)]


@handles(ResetTimer)
def _reset_timer(state: SessionState, cmd: ResetTimer, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    step = state.step
    seconds = (step.timebox or 0) * 60 if step else 0.0
    return [TimerReset(at=now, duration=seconds)]


# -- people ----------------------------------------------------------------------


@handles(Join)
def _join(state: SessionState, cmd: Join, now: float) -> Outcome:
    if cmd.actor.role is not ActorRole.PARTICIPANT:
        return CommandRejected("Only participants join.", "forbidden")
    name: str | None = None
    if cmd.name is not None and str(cmd.name).strip():
        cleaned = clean(cmd.name, NAME_MAX)
        if isinstance(cleaned, CommandRejected):
            return cleaned
        name = cleaned[0]
    known = state.participants.get(cmd.actor.id)
    if known is not None:
        return (
            []
            if known.name == name
            else [ParticipantRenamed(at=now, participant_id=cmd.actor.id, name=name)]
        )
    if len(state.participants) >= MAX_PARTICIPANTS:
        return CommandRejected("The session is full.", "full")
    return [ParticipantJoined(at=now, participant_id=cmd.actor.id, name=name)]


@handles(SetRole)
def _set_role(state: SessionState, cmd: SetRole, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    if cmd.participant_id not in state.participants:
        return CommandRejected("That participant is not in the session.", "unknown_participant")
    if cmd.role is not None and cmd.role not in {r.id for r in state.script.roles}:
        return CommandRejected("That role is not in the script.", "unknown_role")
    return [RoleSet(at=now, participant_id=cmd.participant_id, role=cmd.role)]


@handles(SetCaseOwner)
def _set_case_owner(state: SessionState, cmd: SetCaseOwner, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    if cmd.participant_id is not None and cmd.participant_id not in state.participants:
        return CommandRejected("That participant is not in the session.", "unknown_participant")
    if cmd.participant_id == state.case_owner:
        return []
    return [CaseOwnerSet(at=now, participant_id=cmd.participant_id)]


# -- cards and clusters ------------------------------------------------------------


def _card_step(state: SessionState, cmd: Command) -> Step | CommandRejected:
    step = state.step
    if step is None or not step.cards:
        return CommandRejected("Cards are not open in this step.", "cards_closed")
    rule = CARD_RULES.get(step.kind)
    if rule is not None and (err := rule(state, step, cmd.actor)):
        return err
    if err := _default_card_limit(state, step, cmd.actor):
        return err
    return step


def _default_card_limit(state: SessionState, step: Step, actor: Actor) -> CommandRejected | None:
    """A step whose script sets no limit still takes CARDS_PER_PARTICIPANT cards from
    one participant (withdrawn ones free a place); the facilitator is not counted."""
    if actor.is_facilitator or getattr(step, "max_cards_per_participant", None) is not None:
        return None
    mine = sum(1 for c in state.cards.values() if c.step_id == step.id and c.author_id == actor.id)
    if mine < CARDS_PER_PARTICIPANT:
        return None
    reason = Reason("You can add at most %(n)s cards in this step.", n=CARDS_PER_PARTICIPANT)
    return CommandRejected(reason, "card_limit")


def _own_card(state: SessionState, cmd: Command, card_id: str) -> CommandRejected | None:
    card = state.cards.get(card_id)
    if card is None:
        return CommandRejected("That card does not exist (any more).", "unknown_card")
    if not cmd.actor.is_facilitator and card.author_id != cmd.actor.id:
        return CommandRejected("You can only change your own cards.", "forbidden")
    return None


def _id_ok(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


@handles(AddCard)
def _add_card(state: SessionState, cmd: AddCard, now: float) -> Outcome:
    if err := running(state) or participant_in(state, cmd):
        return err
    if not _id_ok(cmd.card_id):
        return CommandRejected("The card has no valid id.", "invalid")
    if cmd.card_id in state.cards or cmd.card_id in state.withdrawn_cards:
        return []  # the same card sent twice (a resend after a dropped connection)
    step = _card_step(state, cmd)
    if isinstance(step, CommandRejected):
        return step
    if len(state.cards) >= MAX_CARDS:
        return CommandRejected("This session has too many cards.", "full")
    cleaned = clean(cmd.text, CARD_MAX)
    if isinstance(cleaned, CommandRejected):
        return cleaned
    text, masked = cleaned
    case = state.case_for(step.id)
    return [
        CardAdded(
            at=now,
            card_id=cmd.card_id,
            step_id=step.id,
            author_id=cmd.actor.id,
            text=text,
            masked=masked,
            case_id=None if case is None else case.id,
        )
    ]


@handles(EditCard)
def _edit_card(state: SessionState, cmd: EditCard, now: float) -> Outcome:
    if err := running(state) or _own_card(state, cmd, cmd.card_id):
        return err
    cleaned = clean(cmd.text, CARD_MAX)
    if isinstance(cleaned, CommandRejected):
        return cleaned
    if state.cards[cmd.card_id].text == cleaned[0]:
        return []
    return [CardEdited(at=now, card_id=cmd.card_id, text=cleaned[0], masked=cleaned[1])]


@handles(WithdrawCard)
def _withdraw_card(state: SessionState, cmd: WithdrawCard, now: float) -> Outcome:
    if cmd.card_id not in state.cards:
        return []  # already withdrawn
    if err := _own_card(state, cmd, cmd.card_id):
        return err
    return [CardWithdrawn(at=now, card_id=cmd.card_id)]


@handles(AddCluster)
def _add_cluster(state: SessionState, cmd: AddCluster, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    if not _id_ok(cmd.cluster_id):
        return CommandRejected("The cluster has no valid id.", "invalid")
    if cmd.cluster_id in state.clusters:
        return []
    step = state.step
    assert step is not None
    cleaned = clean(cmd.title, 120)
    if isinstance(cleaned, CommandRejected):
        return cleaned
    return [ClusterAdded(at=now, cluster_id=cmd.cluster_id, step_id=step.id, title=cleaned[0])]


@handles(GroupCard)
def _group_card(state: SessionState, cmd: GroupCard, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    card = state.cards.get(cmd.card_id)
    if card is None:
        return CommandRejected("That card does not exist (any more).", "unknown_card")
    if cmd.cluster_id is not None and cmd.cluster_id not in state.clusters:
        return CommandRejected("That cluster does not exist.", "unknown_cluster")
    if card.cluster_id == cmd.cluster_id:
        return []
    return [CardGrouped(at=now, card_id=cmd.card_id, cluster_id=cmd.cluster_id)]


# -- decisions, actions, the next meeting -------------------------------------------


@handles(RecordDecision)
def _record_decision(state: SessionState, cmd: RecordDecision, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    if not _id_ok(cmd.decision_id):
        return CommandRejected("The decision has no valid id.", "invalid")
    if any(d.id == cmd.decision_id for d in state.decisions):
        return []
    cleaned = clean(cmd.text)
    if isinstance(cleaned, CommandRejected):
        return cleaned
    by = clean(cmd.decided_by, 200) if cmd.decided_by else ("", 0)
    if isinstance(by, CommandRejected):
        return by
    step = state.step
    assert step is not None
    return [
        DecisionRecorded(
            at=now,
            decision_id=cmd.decision_id,
            step_id=step.id,
            text=cleaned[0],
            decided_by=by[0],
            masked=cleaned[1] + by[1],
        )
    ]


@handles(EditDecision)
def _edit_decision(state: SessionState, cmd: EditDecision, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    current = next((d for d in state.decisions if d.id == cmd.decision_id), None)
    if current is None:
        return CommandRejected("That decision does not exist.", "unknown_decision")
    cleaned = clean(cmd.text)
    if isinstance(cleaned, CommandRejected):
        return cleaned
    if cleaned[0] == current.text:
        return []
    return [
        DecisionEdited(
            at=now,
            decision_id=cmd.decision_id,
            text=cleaned[0],
            edited_by=cmd.actor.id,
            masked=cleaned[1],
        )
    ]


def _due(value: object) -> tuple[str | None, int] | CommandRejected:
    """The deadline: free text ("uge 12", "1. marts", "næste møde"), cleaned like all text.

    The minutes read a date out of it where there is one (server/minutes/build.py).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, 0
    cleaned = clean(value, DUE_MAX)
    if isinstance(cleaned, CommandRejected):
        if cleaned.code == "too_long":
            return CommandRejected("The deadline is too long.", "invalid")
        return cleaned
    return cleaned


def _action_fields(
    cmd: AddAction | EditAction,
) -> tuple[str, str, str | None, int] | CommandRejected:
    what = clean(cmd.what)
    if isinstance(what, CommandRejected):
        return what
    who = clean(cmd.who, 200)
    if isinstance(who, CommandRejected):
        return who
    due = _due(cmd.due)
    if isinstance(due, CommandRejected):
        return due
    return what[0], who[0], due[0], what[1] + who[1] + due[1]


@handles(AddAction)
def _add_action(state: SessionState, cmd: AddAction, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    if not _id_ok(cmd.action_id):
        return CommandRejected("The action has no valid id.", "invalid")
    if any(a.id == cmd.action_id for a in state.actions):
        return []
    fields = _action_fields(cmd)
    if isinstance(fields, CommandRejected):
        return fields
    what, who, due, masked = fields
    step = state.step
    assert step is not None
    return [
        ActionAdded(
            at=now,
            action_id=cmd.action_id,
            step_id=step.id,
            what=what,
            who=who,
            due=due,
            masked=masked,
        )
    ]


@handles(EditAction)
def _edit_action(state: SessionState, cmd: EditAction, now: float) -> Outcome:
    if err := facilitator_only(cmd):
        return err
    current = next((a for a in state.actions if a.id == cmd.action_id), None)
    if current is None:
        return CommandRejected("That action does not exist.", "unknown_action")
    fields = _action_fields(cmd)
    if isinstance(fields, CommandRejected):
        return fields
    what, who, due, masked = fields
    if (what, who, due) == (current.what, current.who, current.due):
        return []
    return [
        ActionEdited(
            at=now,
            action_id=cmd.action_id,
            what=what,
            who=who,
            due=due,
            edited_by=cmd.actor.id,
            masked=masked,
        )
    ]


@handles(AgreeNextMeeting)
def _agree_next(state: SessionState, cmd: AgreeNextMeeting, now: float) -> Outcome:
    if err := facilitator_only(cmd) or running(state):
        return err
    date = clean(cmd.date, 40)
    if isinstance(date, CommandRejected):
        return date
    goals: list[str] = []
    for goal in cmd.goals[:20]:
        cleaned = clean(goal)
        if isinstance(cleaned, CommandRejected):
            return cleaned
        goals.append(cleaned[0])
    return [NextMeetingAgreed(at=now, date=date[0], goals=tuple(goals))]
