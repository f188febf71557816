"""Cards are appended to the big screens' walls instead of rendering them whole
(server/web/broadcast.py). Whenever `cards_added` says a change is only new
cards at the end of the wall, the fragments with the cards appended are exactly
the fragments rendered whole from the new state, on both screens, also when
what a screen was sent is several batches old (a render under way)."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.engine import Actor, ActorRole, SessionState
from server.engine import commands as c
from server.web import render
from server.web.broadcast import APPENDABLE, append_cards, cards_added
from tests.engine.steps_helpers import FAC, Run
from tests.engine.test_steps_random import PEOPLE, STEP_IDS, Dice, draw_command, prepared
from tests.web.test_broadcast import ROOM

NOW = 5000.0


def whole(state: SessionState, audience: str) -> render.Fragments:
    return render.render_audience(state, ROOM, audience, NOW)


def check(old: SessionState, new: SessionState) -> int:
    """Appending gives the whole rendering wherever `cards_added` allows it;
    returns on how many screens it did."""
    found = cards_added(old, new)
    if found is None:
        return 0
    added, before = found
    assert added and len(new.cards) == len(old.cards) + len(added)
    appended = 0
    for audience in APPENDABLE:
        spliced = append_cards(whole(old, audience), audience, added, before, ROOM.lang)
        if spliced is None:
            continue
        fragments, message = spliced
        assert fragments == whole(new, audience), audience
        # The message carries each new card once, to the list it goes in.
        for card in added:
            mark = (
                f'"card_id": "{card.id}"' if audience == "facilitator" else f'id="card-{card.id}"'
            )
            assert message.count(mark) == 1
        appended += 1
    return appended


TEXTS = ("Hør barnet", "<b>fed</b> & 'citat'", "Ærø", "x" * 300, "CPR 010203-1234", " ")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    step=st.sampled_from(STEP_IDS),
    program=st.lists(
        st.tuples(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.0, 0.001, 1.0, -1.0])),
        min_size=5,
        max_size=40,
    ),
)
def test_appending_cards_gives_what_rendering_whole_gives(
    step: str, program: list[tuple[int, float]]
) -> None:
    run = Run()
    prepared(run, step)
    history = [run.state]
    for position, (seed, dt) in enumerate(program):
        dice = Dice(seed, position)
        if dice.chance(5):  # now and then anything else: a cluster, a withdrawal, a step ...
            cmd = draw_command(dice, run.state)
        else:  # mostly cards, several in one batch (dt 0: one batch, one clock)
            who = Actor(ActorRole.PARTICIPANT, dice.choose(PEOPLE))
            card_id = f"k{dice.roll(10_000)}"
            cmd = c.AddCard(actor=who, card_id=card_id, text=dice.choose(TEXTS))
        run.do(cmd, dt=dt)
        if run.state is not history[-1]:
            history.append(run.state)
            # against the state before, and against older ones (a render under way)
            for old in history[-4:-1]:
                check(old, run.state)


def test_a_burst_of_cards_is_appended_on_both_screens() -> None:
    run = Run()
    prepared(run, "ideer")
    old = run.state
    run.ok(c.AddCard(actor=Actor(ActorRole.PARTICIPANT, "a"), card_id="n1", text="Én"))
    assert check(old, run.state) == 2
    # a batch: one clock for all, ids in any order
    old = run.state
    for i, pid in enumerate(("c", "a", "b")):
        who = Actor(ActorRole.PARTICIPANT, pid)
        run.do(c.AddCard(actor=who, card_id=f"z{9 - i}", text=f"Kort {i}"), dt=0.0 if i else 1.0)
    assert check(old, run.state) == 2


def test_what_is_not_an_append_is_rendered_whole() -> None:
    run = Run()
    prepared(run, "ideer")
    a, b = (Actor(ActorRole.PARTICIPANT, pid) for pid in ("a", "b"))
    run.ok(c.AddCard(actor=a, card_id="n1", text="Én"))
    shown = run.state
    # a card that would come before one on the wall (the clock went back)
    run.do(c.AddCard(actor=b, card_id="n0", text="To"), dt=-0.5)
    assert cards_added(shown, run.state) is None
    # a card withdrawn, a cluster, a card grouped, a step change
    for cmd in (
        c.WithdrawCard(actor=a, card_id="n1"),
        c.AddCluster(actor=FAC, cluster_id="g1", title="Tema"),
        c.GroupCard(actor=FAC, card_id="n0", cluster_id="g1"),
        c.GoToStep(actor=FAC, step_id="droeft"),
    ):
        shown = run.state
        run.ok(cmd)
        assert cards_added(shown, run.state) is None, cmd
    # the first card of the next step: the projector's wall takes it as an
    # append, the facilitator's list says "no cards yet" and is rendered whole
    shown = run.state
    run.ok(c.AddCard(actor=a, card_id="n2", text="Tre"))
    assert check(shown, run.state) == 1
    shown = run.state
    run.ok(c.AddCard(actor=b, card_id="n3", text="Fire"))
    assert check(shown, run.state) == 2


def test_the_wall_lists_hold_their_cards_with_nothing_between() -> None:
    run = Run()
    prepared(run, "ideer")
    for pid in PEOPLE:
        run.ok(c.AddCard(actor=Actor(ActorRole.PARTICIPANT, pid), card_id=f"w-{pid}", text=pid))
    wall = whole(run.state, "projector")["p-stage"]
    listed = re.search(r'<ul class="cards cards-big"[^>]* id="wall-loose">(.*?)</ul>', wall, re.S)
    assert listed is not None and re.fullmatch(r"(<li [^>]*>[^<]*</li>)+", listed.group(1))
    admin = whole(run.state, "facilitator")["f-stage"]
    listed = re.search(r'<ul class="cards cards-admin" id="f-cards">(.*?)</ul>', admin, re.S)
    assert (
        listed is not None
        and listed.group(1).startswith("<li")
        and listed.group(1).endswith("</li>")
    )
