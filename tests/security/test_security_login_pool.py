"""The parts the login is built from: the bounded password pool, the lock of a
username from one address, and the counters' numbering (issue 14)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable

import pytest

from server.store import repo
from server.store.repo import PASSWORD_NICE, Passwords, PasswordsBusy
from server.web.throttle import Lockout, Throttle, Throttles


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def test_checks_run_off_the_event_loop() -> None:
    pool = Passwords(workers=1, waiting=0)
    try:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await pool.run(time.sleep, 0.3)  # as long as a real argon2 check
        ticker.cancel()
        assert ticks >= 10  # the loop went on meanwhile (on the loop itself: 0)
        stored = await pool.hash("æøå hemmelighed")
        assert await pool.verify(stored, "æøå hemmelighed")
        assert not await pool.verify(stored, "forkert")
    finally:
        pool.close()


async def test_the_pool_refuses_beyond_its_workers_and_queue() -> None:
    pool = Passwords(workers=1, waiting=1)
    gate = threading.Event()
    try:
        running = asyncio.create_task(pool.run(gate.wait, 10))
        waiting = asyncio.create_task(pool.run(gate.wait, 10))
        await _until(lambda: pool.full)
        assert pool.full
        with pytest.raises(PasswordsBusy):
            await pool.run(gate.wait, 10)
        # Giving up on a waiting check does not free its place before it is done
        # (cancelled before it began, it is done at once).
        running.cancel()
        await asyncio.sleep(0.05)
        assert pool.full
        gate.set()
        assert await waiting is True
        await _until(lambda: not pool.full)
        assert await pool.run(len, "abc") == 3
    finally:
        gate.set()
        pool.close()
    with pytest.raises(PasswordsBusy):  # closed with the app
        await pool.run(len, "abc")


async def test_an_unknown_username_is_checked_against_one_hash_made_once() -> None:
    pool = Passwords(workers=1)
    try:
        first = await pool.dummy()
        assert first.startswith("$argon2id$") and await pool.dummy() == first
        await pool.verify_nobody("anything")
    finally:
        pool.close()
    other = Passwords(workers=1)  # each app its own
    try:
        assert await other.dummy() != first
    finally:
        other.close()
    inline = Passwords(workers=0)  # a Repo outside the app (the command line)
    assert not inline.full
    assert await inline.verify(await inline.hash("x"), "x")
    assert (await inline.dummy()).startswith("$argon2id$")


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread niceness is Linux's")
async def test_checks_run_at_a_lower_priority_than_the_event_loop() -> None:
    pool = Passwords(workers=1)

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    try:
        loop_nice = niceness()
        assert await pool.run(niceness) == min(19, loop_nice + PASSWORD_NICE)
        assert niceness() == loop_nice
    finally:
        pool.close()


def test_the_suite_hasher_is_the_one_the_pool_uses() -> None:
    # tests/conftest.py swaps repo._hasher; the pool calls hash_password and
    # verify_password, which read it on every call.
    assert repo._hasher is not repo.SERVICE_HASHER
    assert repo.hash_password("x").startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_a_lock_follows_five_failures_in_a_row_and_expires() -> None:
    lock = Lockout(after=5, seconds=900)
    key, other = ("anne", "198.51.100.7"), ("anne", "203.0.113.20")
    assert [lock.fail(key, float(t)) for t in range(5)] == [False] * 4 + [True]
    assert lock.left(key, 4.0) == 900.0 and lock.left(key, 800.0) == 104.0
    assert lock.left(other, 10.0) == 0  # the same username from elsewhere
    assert lock.left(key, 905.0) == 0  # expired
    assert not lock.fail(key, 906.0)  # and counting starts again


def test_a_right_password_or_a_long_pause_forgets_the_failures() -> None:
    lock = Lockout(after=5, seconds=900)
    key = ("anne", "198.51.100.7")
    for t in range(4):
        lock.fail(key, float(t))
    lock.clear(key)
    assert [lock.fail(key, 10.0 + t) for t in range(4)] == [False] * 4
    assert not lock.fail(key, 2000.0)  # the four before are too old to count
    assert lock.left(key, 2000.0) == 0


def test_counters_number_the_attempts_and_forget_old_keys() -> None:
    throttle = Throttle(limit=3, window=60)
    assert [throttle.attempt("a", 0.0) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert throttle.blocked("a", 1.0) and not throttle.allow("a", 1.0)
    assert throttle.attempt("a", 61.0) == 1  # a new window
    assert Throttles().login_lock is not Throttles().login_lock  # one per app
