"""What people ask for. Kind-specific commands live in their step module."""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.registry import Command, command


@command
@dataclass(frozen=True, kw_only=True)
class StartSession(Command):
    pass


@command
@dataclass(frozen=True, kw_only=True)
class EndSession(Command):
    pass


@command
@dataclass(frozen=True, kw_only=True)
class ReopenSession(Command):
    """Takes an ended session up again at the step it ended on (the undo of EndSession)."""


@command
@dataclass(frozen=True, kw_only=True)
class GoToStep(Command):
    step_id: str


@command
@dataclass(frozen=True, kw_only=True)
class NextStep(Command):
    """`from_step` is the step the sender saw; a repeat (double click) is a no-op."""

    from_step: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class PreviousStep(Command):
    from_step: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class StartTimer(Command):
    minutes: float | None = None


@command
@dataclass(frozen=True, kw_only=True)
class PauseTimer(Command):
    pass


@command
@dataclass(frozen=True, kw_only=True)
class ExtendTimer(Command):
    minutes: float = 1.0


@command
@dataclass(frozen=True, kw_only=True)
class ResetTimer(Command):
    pass


@command
@dataclass(frozen=True, kw_only=True)
class Join(Command):
    """A participant (actor.id) joins or renames themselves."""

    name: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class SetRole(Command):
    participant_id: str
    role: str | None


@command
@dataclass(frozen=True, kw_only=True)
class SetCaseOwner(Command):
    participant_id: str | None


@command
@dataclass(frozen=True, kw_only=True)
class RemoveParticipant(Command):
    """The facilitator sends a participant out; that phone cannot join again
    (server/engine/removal.py)."""

    participant_id: str


@command
@dataclass(frozen=True, kw_only=True)
class AddCard(Command):
    card_id: str
    text: str


@command
@dataclass(frozen=True, kw_only=True)
class EditCard(Command):
    card_id: str
    text: str


@command
@dataclass(frozen=True, kw_only=True)
class WithdrawCard(Command):
    card_id: str


@command
@dataclass(frozen=True, kw_only=True)
class AddCluster(Command):
    cluster_id: str
    title: str


@command
@dataclass(frozen=True, kw_only=True)
class GroupCard(Command):
    card_id: str
    cluster_id: str | None


@command
@dataclass(frozen=True, kw_only=True)
class RecordDecision(Command):
    decision_id: str
    text: str
    decided_by: str = ""


@command
@dataclass(frozen=True, kw_only=True)
class EditDecision(Command):
    decision_id: str
    text: str


@command
@dataclass(frozen=True, kw_only=True)
class AddAction(Command):
    action_id: str
    what: str
    who: str
    due: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class EditAction(Command):
    action_id: str
    what: str
    who: str
    due: str | None = None


@command
@dataclass(frozen=True, kw_only=True)
class AgreeNextMeeting(Command):
    date: str
    goals: tuple[str, ...] = ()
