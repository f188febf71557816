"""Shared by the step-kind tests: a session driven through decide/apply, and scripts.

Not a test module itself (pytest collects only test_*.py).
"""

from __future__ import annotations

import json
from typing import Any

from server.engine import (
    Actor,
    ActorRole,
    CommandRejected,
    SessionState,
    apply_all,
    decide,
    lobby,
    replay,
)
from server.engine.commands import GoToStep, Join, SetRole, StartSession
from server.engine.events import SessionCreated, from_record, to_record
from server.engine.registry import Command, Event

FAC = Actor(ActorRole.FACILITATOR, "fac")

CASES: tuple[dict[str, str], ...] = (
    {"id": "k1", "label": "Sag 1", "learning_question": "Hvornår blev barnet hørt?"},
    {"id": "k2", "label": "Sag 2"},
    {"id": "k3", "label": "Sag 3"},
)
FOCUS_AREAS: tuple[dict[str, str], ...] = (
    {"id": "fa1", "title": "Barnets perspektiv"},
    {"id": "fa2", "title": "Tidlig indsats"},
    {"id": "fa3", "title": "Samarbejde med skolen"},
)

# One step of every kind, shaped like the shipped scripts.
SCRIPT: dict[str, Any] = {
    "id": "alle-trin",
    "title": "Alle trin",
    "duration": 240,
    "roles": [
        {"id": "case_owner", "title": "Sagsejer"},
        {"id": "family", "title": "Familie"},
        {"id": "consultant", "title": "Konsulent"},
    ],
    "steps": [
        {
            "id": "velkomst",
            "kind": "presentation",
            "title": "Velkommen",
            "timebox": 5,
            "presenter": "consultant",
        },
        {
            "id": "ideer",
            "kind": "brainstorm",
            "title": "Idéer",
            "timebox": 10,
            "max_cards_per_participant": 2,
            "clusters": ["Kvalitet", "Tidlige forløb"],
        },
        {
            "id": "droeft",
            "kind": "discussion",
            "title": "Drøftelse",
            "cards": True,
            "questions": ["Hvad virker?"],
        },
        {"id": "runde", "kind": "round", "title": "Runde", "listeners": ["case_owner"]},
        {
            "id": "valg",
            "kind": "poll",
            "title": "Valg",
            "question": "Hvilken?",
            "type": "choice",
            "options": ["Alfa", "Beta", "Gamma"],
            "anonymous": False,
            "allow_change": False,
        },
        {
            "id": "prikker",
            "kind": "poll",
            "title": "Prikker",
            "question": "Fordel prikker",
            "type": "dot",
            "options_from": "focus_areas",
            "dots": 5,
            "max_per_option": 3,
        },
        {
            "id": "kortvalg",
            "kind": "poll",
            "title": "Kort",
            "question": "Bedste kort?",
            "type": "approval",
            "options_from": "cards",
            "show_count_on_projector": False,
        },
        {
            "id": "klynger",
            "kind": "poll",
            "title": "Klynger",
            "question": "Vigtigste tema?",
            "type": "score",
            "options_from": "clusters",
        },
        {
            "id": "prioritering",
            "kind": "poll",
            "title": "Prioritering",
            "question": "Rækkefølge?",
            "type": "rank",
            "options_from": "focus_areas",
            "assign_horizon": True,
        },
        {
            "id": "fri",
            "kind": "poll",
            "title": "Fri",
            "question": "Forslag?",
            "type": "choice",
            "options_from": "facilitator",
        },
        {
            "id": "sager",
            "kind": "case_walkthrough",
            "title": "Sager",
            "per_case_timebox": 10,
            "timebox": 60,
        },
        {"id": "plan", "kind": "plan_edit", "title": "Plan", "fields": ["purpose", "status"]},
        {"id": "hoering", "kind": "consultation", "title": "Høring", "window_days": 10},
        {"id": "pause", "kind": "break", "title": "Pause", "timebox": 15},
        {
            "id": "familietid",
            "kind": "private_time",
            "title": "Familiens tid",
            "group": "family",
            "others_message": "Familien arbejder alene.",
            "cards": True,
        },
        {"id": "beslut", "kind": "decision", "title": "Beslutning", "journal_note": True},
    ],
}


def p(pid: str) -> Actor:
    return Actor(ActorRole.PARTICIPANT, pid)


class Run:
    """A session driven through decide/apply, keeping its log."""

    def __init__(
        self,
        script: dict[str, Any] | None = None,
        cases: tuple[dict[str, str], ...] = CASES,
        focus_areas: tuple[dict[str, str], ...] = FOCUS_AREAS,
    ) -> None:
        created = SessionCreated(
            at=0.0,
            session_id="s1",
            script=script or SCRIPT,
            cases=cases,
            focus_areas=focus_areas,
        )
        self.log: list[Event] = [created]
        self.state: SessionState = replay(self.log)
        self.now = 1.0

    def do(self, cmd: Command, *, dt: float = 1.0) -> list[Event] | CommandRejected:
        self.now += dt
        out = decide(self.state, cmd, self.now)
        if not isinstance(out, CommandRejected):
            self.log.extend(out)
            self.state = apply_all(self.state, out)
        return out

    def ok(self, cmd: Command) -> list[Event]:
        out = self.do(cmd)
        assert not isinstance(out, CommandRejected), out
        return out

    def no(self, cmd: Command) -> CommandRejected:
        out = self.do(cmd)
        assert isinstance(out, CommandRejected), out
        return out

    def start(self, *people: str, step: str | None = None) -> Run:
        self.ok(StartSession(actor=FAC))
        for pid in people:
            self.enter(pid, pid.upper())
        if step is not None:
            self.ok(GoToStep(actor=FAC, step_id=step))
        return self

    def enter(self, pid: str, name: str) -> None:
        """Join; in a case meeting through the lobby, as the facilitator lets people in."""
        out = self.do(Join(actor=p(pid), name=name))
        if isinstance(out, CommandRejected) and out.code == "lobby":
            self.ok(lobby.AskToJoin(actor=p(pid), name=name))
            self.ok(lobby.Admit(actor=FAC, participant_id=pid))
        else:
            assert not isinstance(out, CommandRejected), out

    def role(self, pid: str, role: str | None) -> None:
        self.ok(SetRole(actor=FAC, participant_id=pid, role=role))

    def replayed(self) -> SessionState:
        """The state rebuilt from the log after a JSON round trip, as the store does it."""
        records = json.loads(json.dumps([to_record(e) for e in self.log]))
        events = [from_record(name, data) for name, data in records]
        assert events == self.log
        return replay(events)
