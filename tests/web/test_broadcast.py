"""The broadcaster's shortcuts are exact: private views are recomputed for the
participants a batch may concern (`affected`), and private parts that differ
only by the name are rendered once (`Privates`) -- both give what rendering
every phone from scratch would."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine import Actor, ActorRole, CommandRejected
from server.engine import commands as c
from server.live import Batch
from server.web import render, views
from server.web.broadcast import (
    INPUTS,
    SMALL_INPUTS,
    Privates,
    _same,
    _same_small,
    affected,
    with_ballot_senders,
)
from server.web.render import Room
from server.web.templating import TEMPLATES as TEMPLATE_DIR
from server.web.templating import render as render_template
from server.web.voters import voter_key
from tests.engine.steps_helpers import FAC, Run
from tests.engine.test_steps_random import (
    PEOPLE,
    POLL_IDS,
    STEP_IDS,
    Dice,
    draw_command,
    prepared,
)

KEY = voter_key("a-test-secret-key-that-is-long-enough-to-use")
ROOM = Room("s1", "Titel", "ABCD2345", "http://testserver/j/ABCD2345", "da", voter_key=KEY)


def random_programs(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A test run on random command programs from a random first step."""

    def wrap(test: Callable[..., None]) -> Callable[..., None]:
        return settings(
            max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        )(
            given(
                first_step=st.sampled_from([*POLL_IDS, *STEP_IDS]),
                program=st.lists(st.integers(0, 2**32 - 1), min_size=10, max_size=60),
            )(test)
        )

    return wrap


def views_of(state) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {pid: views.private_view(state, pid, KEY) for pid in PEOPLE}


@random_programs(examples=150)
def test_every_private_view_a_batch_changes_is_recomputed(
    first_step: str, program: list[int]
) -> None:
    run = Run()
    prepared(run, first_step)
    for position, seed in enumerate(program):
        before = views_of(run.state)
        cmd = draw_command(Dice(seed, position), run.state)
        out = run.do(cmd)
        if isinstance(out, CommandRejected) or not out:
            continue
        who = with_ballot_senders(Batch([(cmd, out)], 0), affected(out, run.state))
        after = views_of(run.state)
        changed = {pid for pid in PEOPLE if before[pid] != after[pid]}
        assert who is None or changed <= who, (type(cmd).__name__, [type(e).__name__ for e in out])


@random_programs(examples=100)
def test_the_indexed_state_gives_every_phone_the_view_the_plain_state_gives(
    first_step: str, program: list[int]
) -> None:
    """`Privates` reads a phone's own cards from an index built once per state."""
    run = Run()
    prepared(run, first_step)
    for position, seed in enumerate(program):
        run.do(draw_command(Dice(seed, position), run.state))
        fast = Privates(run.state, ROOM)
        for pid in PEOPLE:
            assert fast.model(pid) == views.private_view(run.state, pid, KEY)


NAMES = [
    "Anne",
    "Bo <b>fed</b>",
    "Citat \"her\" & 'der'",
    "Ærø Øster Åse",
    "emoji 🙂",
    "%(name)s {{ x }}",
    None,
    "Anne",  # the same name twice
]


def test_private_parts_rendered_once_per_shape_are_those_rendered_one_by_one() -> None:
    run = Run()
    run.ok(c.StartSession(actor=FAC))
    for i, name in enumerate(NAMES):
        run.ok(c.Join(actor=Actor(ActorRole.PARTICIPANT, f"p{i}"), name=name))
    for step_id in STEP_IDS:
        run.do(c.GoToStep(actor=FAC, step_id=step_id))
        run.do(
            c.AddCard(
                actor=Actor(ActorRole.PARTICIPANT, "p1"), card_id=f"k-{step_id}", text="Mit <kort>"
            )
        )
        fast = Privates(run.state, ROOM)
        slow = render.PrivateRenderer(run.state, ROOM)
        for i in range(len(NAMES)):
            assert fast(f"p{i}") == slow(f"p{i}"), (step_id, NAMES[i])
        shared_views = sum(1 for n in NAMES if n) - 1  # all but one are shaped alike
        assert fast.renders <= len(NAMES) - shared_views + 3


def test_a_template_that_does_more_with_the_name_is_rendered_per_view(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    run = Run()
    run.ok(c.StartSession(actor=FAC))
    for i, name in enumerate(["Anne", "Bo", "Carl"]):
        run.ok(c.Join(actor=Actor(ActorRole.PARTICIPANT, f"p{i}"), name=name))

    def upper(lang: str, template: str, **ctx: object) -> str:
        me = ctx["me"]
        return f"<p>{str(getattr(me, 'name', '')).upper()}</p>"

    monkeypatch.setattr("server.web.broadcast.tpl_render", upper)
    fast = Privates(run.state, ROOM)
    assert [fast(f"p{i}")[1] for i in range(3)] == ["<p>ANNE</p>", "<p>BO</p>", "<p>CARL</p>"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first_step=st.sampled_from([*POLL_IDS, *STEP_IDS]),
    program=st.lists(st.integers(0, 2**32 - 1), min_size=10, max_size=50),
)
def test_a_fragment_is_only_kept_while_its_inputs_are_the_same(
    first_step: str, program: list[int]
) -> None:
    run = Run()
    prepared(run, first_step)
    templates = dict(render.FRAGMENTS["facilitator"])

    def html(fragment_id: str) -> str:
        ctx = render.context(run.state, ROOM, run.now)
        return render_template(ROOM.lang, templates[fragment_id], **ctx)

    for position, seed in enumerate(program):
        before = {f: (inputs(run.state, ROOM), html(f)) for f, inputs in INPUTS.items()}
        run.do(draw_command(Dice(seed, position), run.state))
        for fragment_id, inputs in INPUTS.items():
            key, old = before[fragment_id]
            if _same(key, inputs(run.state, ROOM)):
                assert html(fragment_id) == old, fragment_id


@random_programs(examples=150)
def test_a_small_fragment_is_only_kept_while_its_inputs_are_the_same(
    first_step: str, program: list[int]
) -> None:
    """What `SMALL_INPUTS` says a fragment is made of is all it is made of (the
    clock aside: a running timer is counted down on the phone)."""
    run = Run()
    prepared(run, first_step)
    clock = run.now

    def html(audience: str, fragment_id: str) -> str:
        return render.render_fragment(run.state, ROOM, audience, fragment_id, clock)

    for position, seed in enumerate(program):
        before = {k: (inputs(run.state), html(*k)) for k, inputs in SMALL_INPUTS.items()}
        run.do(draw_command(Dice(seed, position), run.state))
        for k, inputs in SMALL_INPUTS.items():
            key, old = before[k]
            if _same_small(key, inputs(run.state)):
                assert html(*k) == old, k


def test_no_small_fragment_reads_the_room() -> None:
    """They are kept per language only (`Broadcaster._small`)."""
    for audience, fragment_id in SMALL_INPUTS:
        source = (TEMPLATE_DIR / render.TEMPLATES[(audience, fragment_id)]).read_text()
        assert "room" not in source, fragment_id
