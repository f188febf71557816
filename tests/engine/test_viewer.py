"""A wall only watches: every command the engine knows, allowed when the
facilitator (or a participant) sends it, is refused when the projector's
actor sends it (the message table refuses it first; this is the second guard)."""

from __future__ import annotations

import dataclasses

import pytest

from server.engine import Actor, ActorRole, CommandRejected, decide
from server.engine.registry import COMMAND_TYPES
from tests.privacy.test_cpr_in_commands import SCENARIOS

WALL = Actor(ActorRole.VIEWER, "projector")


@pytest.mark.parametrize("name", sorted(COMMAND_TYPES))
def test_the_wall_may_do_nothing(name: str) -> None:
    setup, make = SCENARIOS[name]
    command = make()
    run = setup()
    assert isinstance(decide(run.state, command, run.now + 1), list), "the scenario allows it"
    refused = decide(run.state, dataclasses.replace(command, actor=WALL), run.now + 1)
    assert isinstance(refused, CommandRejected), f"{name} from the wall: {refused}"
