"""Accounts in the store (server/store/repo.py)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type

from server.store import repo


def test_a_password_is_stored_as_argon2id_and_checked() -> None:
    stored = repo.hash_password("æøå hemmelighed")
    assert stored.startswith("$argon2id$")
    assert "æøå" not in stored
    assert repo.verify_password(stored, "æøå hemmelighed")
    assert not repo.verify_password(stored, "aeoeaa hemmelighed")
    assert not repo.verify_password("not a hash", "x")


def test_the_service_hashes_with_the_recommended_parameters() -> None:
    # The suite swaps in cheap parameters (tests/conftest.py); the service's own
    # hasher is RFC 9106's second recommendation at least.
    real = repo.SERVICE_HASHER
    assert (real.time_cost, real.memory_cost, real.parallelism) >= (3, 65536, 4)
    assert real.type is Type.ID
    assert isinstance(real, PasswordHasher)
