"""A constant the API repeats from the lock model, held equal here.

(The determinism suite's constants, class list and parent watch are no longer
copies: the suite imports them, served with it from memory; tests/test_architecture.py
holds that no child module defines them again.)"""

from __future__ import annotations


def test_the_api_repeats_the_default_lock_name_exactly() -> None:
    from envlock import api
    from envlock.lock.model import DEFAULT_LOCK_NAME

    assert api.DEFAULT_LOCK_NAME == DEFAULT_LOCK_NAME
