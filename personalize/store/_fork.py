"""Stores that survive ``os.fork()``: a child re-opens what it must not share.

A pre-forking server (gunicorn ``--preload``, uWSGI) builds the personalizer and its store
in the master and forks the workers. What a child inherits must not be used as is: a SQLite
connection open across a fork corrupts the database's locks, a lock held by another thread
at the fork stays held forever in the child, and a thread (Redis's flusher) does not exist
in the child at all. Each store registers a hook here that, in the child, drops those and
lets them be re-opened lazily; the stored data itself is in the file or on the server.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "reset_after_fork"]


class ForkAware(Protocol):
    """A store with state to rebuild in a forked child."""

    def _after_fork(self) -> None: ...


def reset_after_fork(store: ForkAware) -> None:
    """Call ``store._after_fork()`` in every child forked while ``store`` is alive.

    The hook holds the store weakly, so registering it does not keep a store alive.
    """
    ref = weakref.ref(store)

    def in_child() -> None:
        found = ref()
        if found is not None:
            found._after_fork()

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=in_child)
