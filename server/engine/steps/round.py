"""Round: each participant in turn, in a visible speaking order.

Role rules: roles named in `listeners` (e.g. the case owner in the Kvifa
proposals round) are left out of the order and only listen; roles named in
`answerers` (the case owner in the Kvifa question round, who answers the
others' questions) are left out of the order but are not silenced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from server.engine.events import TimerReset, TimerStarted
from server.engine.registry import (
    Command,
    CommandRejected,
    Event,
    Outcome,
    applies,
    card_rule,
    command,
    event,
    handles,
    on_enter,
)
from server.engine.state import Actor, RoundState, SessionState
from server.engine.steps._checks import facilitator_only, running
from server.scripts.schema import RoundStep, Step

KIND = "round"


@command
@dataclass(frozen=True, kw_only=True)
class NextSpeaker(Command):
    from_speaker: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class SkipSpeaker(Command):
    from_speaker: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class ReorderRound(Command):
    order: tuple[str, ...]


@event
@dataclass(frozen=True, kw_only=True)
class RoundStarted(Event):
    step_id: str
    order: tuple[str, ...]


@event
@dataclass(frozen=True, kw_only=True)
class SpeakerAdvanced(Event):
    step_id: str
    position: int
    skipped: str | None = None


@event
@dataclass(frozen=True, kw_only=True)
class RoundReordered(Event):
    step_id: str
    order: tuple[str, ...]


def listeners(state: SessionState, step: RoundStep) -> set[str]:
    """Participants who only listen in this round."""
    return {pid for pid in state.participants if state.participant_role(pid) in step.listeners}


def answerers(state: SessionState, step: RoundStep) -> set[str]:
    """Participants who answer the others in this round and take no turn themselves."""
    return {pid for pid in state.participants if state.participant_role(pid) in step.answerers}


def speaking_order(state: SessionState, step: RoundStep) -> tuple[str, ...]:
    left_out = listeners(state, step) | answerers(state, step)
    ordered = sorted(state.participants.values(), key=lambda p: (p.joined_at, p.id))
    return tuple(p.id for p in ordered if p.id not in left_out)


@on_enter(KIND)
def _enter(state: SessionState, step: Step, now: float) -> list[Event]:
    assert isinstance(step, RoundStep)
    if step.id in state.rounds:
        return []  # coming back to a round keeps where it was
    order = speaking_order(state, step)
    started = RoundStarted(at=now, step_id=step.id, order=order)
    return [started, *(speaker_timer(step, now) if order else [])]


def _current_round(state: SessionState, cmd: Command) -> RoundState | CommandRejected:
    if refused := facilitator_only(cmd) or running(state):
        return refused
    step = state.step
    if not isinstance(step, RoundStep):
        return CommandRejected("This step is not a round.", "not_a_round")
    rnd = state.rounds.get(step.id)
    if rnd is None:
        return CommandRejected("This step is not a round.", "not_a_round")
    return rnd


def _advance(state: SessionState, cmd: NextSpeaker | SkipSpeaker, now: float) -> Outcome:
    rnd = _current_round(state, cmd)
    if isinstance(rnd, CommandRejected):
        return rnd
    if cmd.from_speaker is not None and cmd.from_speaker != rnd.current:
        return []  # a repeated click: the round has moved on already
    if rnd.finished:
        return CommandRejected("Everyone has had their turn.", "round_finished")
    skipped = rnd.current if isinstance(cmd, SkipSpeaker) else None
    step = state.step
    assert isinstance(step, RoundStep)
    advanced = SpeakerAdvanced(
        at=now, step_id=rnd.step_id, position=rnd.position + 1, skipped=skipped
    )
    more_speakers = rnd.position + 1 < len(rnd.order)
    return [advanced, *(speaker_timer(step, now) if more_speakers else [])]


def speaker_timer(step: RoundStep, now: float) -> list[Event]:
    """With a speaker timebox, each turn gets the timer afresh."""
    if step.speaker_timebox is None:
        return []
    seconds = step.speaker_timebox * 60
    return [
        TimerReset(at=now, duration=seconds),
        TimerStarted(at=now, duration=seconds, deadline=now + seconds),
    ]


@handles(NextSpeaker)
def _next_speaker(state: SessionState, cmd: NextSpeaker, now: float) -> Outcome:
    return _advance(state, cmd, now)


@handles(SkipSpeaker)
def _skip_speaker(state: SessionState, cmd: SkipSpeaker, now: float) -> Outcome:
    return _advance(state, cmd, now)


@handles(ReorderRound)
def _reorder(state: SessionState, cmd: ReorderRound, now: float) -> Outcome:
    rnd = _current_round(state, cmd)
    if isinstance(rnd, CommandRejected):
        return rnd
    order = tuple(cmd.order)
    if len(set(order)) != len(order) or any(pid not in state.participants for pid in order):
        return CommandRejected("The new order must list participants once each.", "invalid")
    step = state.step
    assert isinstance(step, RoundStep)
    if set(order) & listeners(state, step):
        return CommandRejected("A listener cannot speak in this round.", "listener")
    if set(order) & answerers(state, step):
        return CommandRejected(
            "Whoever answers the questions in this round takes no turn.", "answerer"
        )
    return [RoundReordered(at=now, step_id=rnd.step_id, order=order)]


@applies(RoundStarted)
def _started(state: SessionState, ev: RoundStarted) -> SessionState:
    rounds = {**state.rounds, ev.step_id: RoundState(step_id=ev.step_id, order=ev.order)}
    return replace(state, rounds=rounds)


@applies(SpeakerAdvanced)
def _advanced(state: SessionState, ev: SpeakerAdvanced) -> SessionState:
    rnd = state.rounds[ev.step_id]
    skipped = (*rnd.skipped, ev.skipped) if ev.skipped else rnd.skipped
    new = replace(rnd, position=min(ev.position, len(rnd.order)), skipped=skipped)
    return replace(state, rounds={**state.rounds, ev.step_id: new})


@applies(RoundReordered)
def _reordered(state: SessionState, ev: RoundReordered) -> SessionState:
    rnd = state.rounds[ev.step_id]
    done = rnd.order[: rnd.position]
    rest = tuple(pid for pid in ev.order if pid not in done)
    new = replace(rnd, order=done + rest)
    return replace(state, rounds={**state.rounds, ev.step_id: new})


def is_listening(state: SessionState, participant_id: str) -> bool:
    """True while the current step is a round this person's role only listens to."""
    step = state.step
    if not isinstance(step, RoundStep):
        return False
    role = state.participant_role(participant_id)
    return role is not None and role in step.listeners


@card_rule(KIND)
def _listeners_write_nothing(
    state: SessionState, step: Step, actor: Actor
) -> CommandRejected | None:
    # Kvifa's proposals round: the case owner listens and does not answer, so
    # the proposals on the wall are the others'.
    if actor.is_facilitator or not is_listening(state, actor.id):
        return None
    return CommandRejected("In this round you only listen.", "listening")
