"""Where commands, events and their handlers register themselves by type.

General commands live in commands.py/decide.py/apply.py; each step kind adds
its own in one module under steps/. Nothing here knows any concrete kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from server.engine.state import Actor, SessionState
from server.scripts.schema import Step


@dataclass(frozen=True, kw_only=True)
class Command:
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class Event:
    at: float


@dataclass(frozen=True, slots=True)
class CommandRejected:
    """A command that was refused, with a reason a person can read (English msgid)."""

    reason: str
    code: str = "rejected"


Outcome = list[Event] | CommandRejected
Handler = Callable[[SessionState, Any, float], Outcome]
Applier = Callable[[SessionState, Any], SessionState]
EnterHook = Callable[[SessionState, Step, float], list[Event]]
CardRule = Callable[[SessionState, Step, Actor], CommandRejected | None]

COMMAND_TYPES: dict[str, type[Command]] = {}
EVENT_TYPES: dict[str, type[Event]] = {}
HANDLERS: dict[type[Command], Handler] = {}
APPLIERS: dict[type[Event], Applier] = {}
ENTER_HOOKS: dict[str, EnterHook] = {}
CARD_RULES: dict[str, CardRule] = {}

C = TypeVar("C", bound=type[Command])
E = TypeVar("E", bound=type[Event])
F = TypeVar("F")


def command(cls: C) -> C:
    COMMAND_TYPES[cls.__name__] = cls
    return cls


def event(cls: E) -> E:
    EVENT_TYPES[cls.__name__] = cls
    return cls


def handles(cmd: type[Command]) -> Callable[[F], F]:
    def register(fn: F) -> F:
        HANDLERS[cmd] = fn  # type: ignore[assignment]
        return fn

    return register


def applies(ev: type[Event]) -> Callable[[F], F]:
    def register(fn: F) -> F:
        APPLIERS[ev] = fn  # type: ignore[assignment]
        return fn

    return register


def on_enter(kind: str) -> Callable[[F], F]:
    def register(fn: F) -> F:
        ENTER_HOOKS[kind] = fn  # type: ignore[assignment]
        return fn

    return register


def card_rule(kind: str) -> Callable[[F], F]:
    """A kind's extra check before a card is added in its step (None = allowed)."""

    def register(fn: F) -> F:
        CARD_RULES[kind] = fn  # type: ignore[assignment]
        return fn

    return register
