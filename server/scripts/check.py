"""`tovholder check-script FILE...`: validate facilitation scripts and dry-run them.

Usage: python -m server.scripts.check [--strict] FILE...

For each file: load it (every problem as ``FILE:LINE: message`` on stderr), then
look for what static validation cannot see (timeboxes against the duration,
prompts for the projector, roles nobody uses) and step the script through the
session engine from start to end. Exit 0 when every file is valid and the dry
run passes; 1 otherwise; 2 for bad usage. Warnings do not fail the check
unless ``--strict`` is given.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from server.scripts.loader import ScriptError, load_script, step_lines
from server.scripts.schema import (
    BreakStep,
    ConsultationStep,
    DecisionStep,
    PollStep,
    PresentationStep,
    PrivateTimeStep,
    RoundStep,
    Script,
    Step,
)

PROMPT_MAX = 160  # characters that still read well on a projector
OVER_PLAN = 1.10  # timeboxes may exceed the duration by 10 %
UNDER_PLAN = 0.75  # ... and leave at most a quarter of it unplanned
UNTIMED_KINDS = (ConsultationStep,)  # runs over days, not minutes
NO_PROMPT_KINDS = (BreakStep,)


@dataclass(frozen=True)
class Finding:
    """Something the dry run noticed; `step` names the step it concerns, if any."""

    message: str
    step: str | None = None


# --------------------------------------------------------------------------- static checks


def lint(script: Script) -> list[Finding]:
    """What a schema cannot check: timing, prompts, roles and where poll options come from."""
    return [
        *_timing(script),
        *_prompts(script),
        *_unused_roles(script),
        *_option_sources(script),
    ]


def total_timebox(script: Script) -> float:
    return sum(step.timebox or 0 for step in script.steps)


def _minutes(value: float) -> str:
    return f"{value:g}"


def _timing(script: Script) -> list[Finding]:
    findings = [
        Finding(f"step '{step.id}' has no timebox", step.id)
        for step in script.steps
        if step.timebox is None and not isinstance(step, UNTIMED_KINDS)
    ]
    total, duration = total_timebox(script), script.duration
    if total > duration * OVER_PLAN:
        findings.append(
            Finding(
                f"the timeboxes add up to {_minutes(total)} min, more than the duration of "
                f"{_minutes(duration)} min"
            )
        )
    elif total < duration * UNDER_PLAN:
        findings.append(
            Finding(
                f"the timeboxes add up to only {_minutes(total)} of {_minutes(duration)} min; "
                "plan the rest or shorten the duration"
            )
        )
    return findings


def _prompts(script: Script) -> list[Finding]:
    findings: list[Finding] = []
    for step in script.steps:
        if isinstance(step, NO_PROMPT_KINDS):
            continue
        if not step.prompt and not (isinstance(step, PollStep) and step.question):
            findings.append(Finding(f"step '{step.id}' has no prompt for the projector", step.id))
        elif len(step.prompt) > PROMPT_MAX:
            findings.append(
                Finding(
                    f"the prompt of step '{step.id}' is {len(step.prompt)} characters; "
                    f"keep it under {PROMPT_MAX} so it reads on a projector",
                    step.id,
                )
            )
    return findings


def roles_named(step: Step) -> tuple[str, ...]:
    if isinstance(step, RoundStep):
        return (*step.listeners, *step.answerers)
    if isinstance(step, PrivateTimeStep):
        return (step.group,)
    if isinstance(step, PresentationStep) and step.presenter:
        return (step.presenter,)
    return ()


def _unused_roles(script: Script) -> list[Finding]:
    used = {role for step in script.steps for role in roles_named(step)}
    return [
        Finding(f"the role '{role.id}' is declared but no step uses it")
        for role in script.roles
        if role.id not in used
    ]


def _option_sources(script: Script) -> list[Finding]:
    findings: list[Finding] = []
    for index, step in enumerate(script.steps):
        if not isinstance(step, PollStep) or step.options_from.value not in ("cards", "clusters"):
            continue
        if not any(earlier.cards for earlier in script.steps[:index]):
            findings.append(
                Finding(
                    f"poll '{step.id}' takes its options from {step.options_from.value}, "
                    "but no earlier step collects cards",
                    step.id,
                )
            )
    return findings


# --------------------------------------------------------------------------- engine dry run


SAMPLE_CASES = tuple(
    {
        "id": f"sag-{n}",
        "label": f"Sag {n}",
        "cover": "Prøveforklæde",
        "summary": "Prøveresumé",
        "learning_question": "Prøvespørgsmål?",
    }
    for n in (1, 2, 3)
)
SAMPLE_FOCUS_AREAS = tuple({"id": f"omraade-{n}", "title": f"Indsatsområde {n}"} for n in (1, 2, 3))
ENGINE_NAMES = ("initial_state", "decide", "apply")


def engine_available() -> bool:
    return _engine() is not None


def _engine() -> ModuleType | None:
    try:
        engine = importlib.import_module("server.engine")
    except Exception:  # an engine mid-rewrite must not break checking scripts
        return None
    return engine if all(hasattr(engine, name) for name in ENGINE_NAMES) else None


def engine_run(script: Script) -> list[Finding]:
    """Step the script through the engine from start to end; [] if the engine is absent."""
    engine = _engine()
    if engine is None:
        return []
    run = _EngineRun(engine, script)
    try:
        run.run()
    except Exception as exc:
        run.fail(f"the engine crashed ({type(exc).__name__}: {exc})")
    return run.findings


class _EngineRun:
    """A facilitator and a few participants (one per role) go through every step."""

    def __init__(self, engine: ModuleType, script: Script) -> None:
        self.engine = engine
        self.script = script
        self.commands = importlib.import_module("server.engine.commands")
        self.registry = importlib.import_module("server.engine.registry")
        events = importlib.import_module("server.engine.events")
        state_mod = importlib.import_module("server.engine.state")
        self.actor_type: Any = state_mod.Actor
        self.roles: Any = state_mod.ActorRole
        self.facilitator = self.actor_type(self.roles.FACILITATOR, "facilitator")
        created = events.SessionCreated(
            at=0.0,
            session_id="dry-run",
            script=script.model_dump(mode="json"),
            cases=SAMPLE_CASES,
            focus_areas=SAMPLE_FOCUS_AREAS,
        )
        self.state: Any = engine.initial_state(created)
        self.now = 0.0
        self.step_id: str | None = None
        self.findings: list[Finding] = []
        self.participants: list[str] = []

    def fail(self, message: str) -> None:
        self.findings.append(Finding(f"dry run: {message}", self.step_id))

    def send(self, command: str, doing: str, /, **fields: Any) -> bool:
        """Send a command by class name; record a finding if the engine refuses it."""
        cls = self.registry.COMMAND_TYPES.get(command) or getattr(self.commands, command, None)
        if cls is None:
            return False  # the engine does not have this command (yet)
        fields.setdefault("actor", self.facilitator)
        outcome = self.engine.decide(self.state, cls(**fields), self.now)
        if isinstance(outcome, self.registry.CommandRejected):
            self.fail(f"{doing} was refused: {outcome.reason}")
            return False
        for event in outcome:
            self.state = self.engine.apply(self.state, event)
        return True

    def _enter(self, pid: str) -> bool:
        """Join; where the script has a lobby (case meetings), ask and be let in."""
        actor = self.participant_actor(pid)
        lobby = getattr(self.engine, "lobby", None)
        if lobby is not None and lobby.required(self.script):
            return self.send(
                "AskToJoin", f"{pid} asking to join", actor=actor, name=pid
            ) and self.send("Admit", f"letting {pid} in", participant_id=pid)
        return self.send("Join", f"{pid} joining", actor=actor, name=pid)

    def participant_actor(self, pid: str) -> Any:
        return self.actor_type(self.roles.PARTICIPANT, pid)

    def run(self) -> None:
        if not self.send("StartSession", "starting the session"):
            return
        self._join()
        for index, step in enumerate(self.script.steps):
            if index and not self.send("NextStep", "moving on", from_step=self.step_id):
                return
            self.step_id = step.id
            if self.state.step_id != step.id:
                self.fail(f"the engine is at step {self.state.step_id!r}, expected {step.id!r}")
                return
            self._exercise(step)
            self.now += (step.timebox or 1) * 60
        self.send("EndSession", "ending the session")
        if str(self.state.status) != "ended":
            self.fail("the session did not end")

    def _join(self) -> None:
        people: list[tuple[str, str | None]] = [(f"p-{r.id}", r.id) for r in self.script.roles]
        people += [("p-a", None), ("p-b", None)]
        for pid, role in people:
            if self._enter(pid):
                self.participants.append(pid)
            if role is not None:
                self.send("SetRole", f"giving {pid} the role {role}", participant_id=pid, role=role)

    def _exercise(self, step: Step) -> None:
        if step.cards and self.participants:
            author = self.participant_actor(self.participants[-1])
            card_id = f"{step.id}-kort"
            sent = self.send("AddCard", "adding a card", actor=author, card_id=card_id, text="Kort")
            if sent and card_id not in self.state.cards:
                self.fail("a card was accepted but is not in the state")
        if isinstance(step, RoundStep):
            self._round(step)
        if isinstance(step, DecisionStep):
            self._decision(step)

    def _round(self, step: RoundStep) -> None:
        rnd = self.state.rounds.get(step.id)
        if rnd is None:
            self.fail("the round did not set a speaking order")
            return
        for pid in rnd.order:
            if self.state.participant_role(pid) in step.listeners:
                self.fail(f"{pid} only listens in this round but is in the speaking order")
            if self.state.participant_role(pid) in step.answerers:
                self.fail(f"{pid} answers in this round but is in the speaking order")
        for _ in range(len(rnd.order)):
            if not self.send("NextSpeaker", "next speaker"):
                return
        if not self.state.rounds[step.id].finished:
            self.fail("the round did not finish after everyone spoke")

    def _decision(self, step: DecisionStep) -> None:
        self.send("RecordDecision", "recording a decision", decision_id=f"{step.id}-b", text="Ok")
        if step.capture.value in ("actions", "both"):
            self.send(
                "AddAction", "adding an action", action_id=f"{step.id}-h", what="Gøre", who="Team"
            )
        if step.next_meeting:
            self.send("AgreeNextMeeting", "agreeing the next meeting", date="2030-01-01")
            if self.state.next_meeting is None:
                self.fail("the next meeting was agreed but is not in the state")


def dry_run(script: Script) -> list[str]:
    """Warnings about a valid script, then problems found by running it through the engine."""
    return [f.message for f in (*lint(script), *engine_run(script))]


# --------------------------------------------------------------------------- command line

USAGE = "usage: tovholder check-script [--strict] FILE..."


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    strict = False
    files: list[str] = []
    options_done = False
    for arg in args:
        if options_done or not arg.startswith("-") or arg == "-":
            files.append(arg)
        elif arg == "--":
            options_done = True
        elif arg == "--strict":
            strict = True
        elif arg in ("-h", "--help"):
            print(f"{USAGE}\n\n{__doc__}")
            return 0
        else:
            print(f"check-script: unknown option {arg!r}\n{USAGE}", file=sys.stderr)
            return 2
    if not files:
        print(USAGE, file=sys.stderr)
        return 2
    results = [check_file(name, strict=strict) for name in files]
    return 0 if all(results) else 1


def check_file(
    name: str, *, strict: bool = False, out: TextIO | None = None, err: TextIO | None = None
) -> bool:
    """Check one file, print its result; True when it passes."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        script = load_script(name)
    except ScriptError as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return False
    lines = _lines(name)
    warnings, failures = lint(script), engine_run(script)
    for finding in warnings:
        print(f"{name}:{lines.get(finding.step or '', 1)}: warning: {finding.message}", file=err)
    for finding in failures:
        print(f"{name}:{lines.get(finding.step or '', 1)}: {finding.message}", file=err)
    passed = not failures and not (strict and warnings)
    if passed:
        print(f"{name}: {_summary(script, warnings)}", file=out)
    return passed


def _lines(name: str) -> dict[str, int]:
    try:
        return step_lines(Path(name).read_bytes())
    except OSError:
        return {}


def _summary(script: Script, warnings: list[Finding]) -> str:
    steps = len(script.steps)
    timing = f"timeboxes {_minutes(total_timebox(script))} of {_minutes(script.duration)} min"
    engine = "dry run passed" if engine_available() else "engine not available, no dry run"
    noted = f", {len(warnings)} warning(s)" if warnings else ""
    return f"OK: {steps} step{'s' if steps != 1 else ''}, {timing}, {engine}{noted}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
