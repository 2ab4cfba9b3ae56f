"""Live views release in steps: the dashboard's aggregates and the form's group value.

The count of submissions stays live. An aggregate changes only when at least ``k`` new
respondents arrived since its last released state (and nobody of that state left, or at
least ``k`` did); until then the last released state is shown again. Both the facilitator
dashboard and the participants' forms of one session read the same :class:`LiveRelease`
(:func:`live_state`), so successive states of either never differ by fewer than ``k`` people.
A participant sees a group value only when ``k`` people other than themselves are in it
(:meth:`LiveRelease.for_participant`).

Example
-------
>>> live = LiveRelease(k=5)
>>> s5 = frozenset("abcde"); s6 = s5 | {"f"}; s10 = frozenset("abcdefghij")
>>> [live.step("x", s, len(s)).value for s in (s5, s6, s10)]
[5, 5, 10]
>>> live.for_participant("x", "a").shown, live.for_participant("x", "z").shown
(True, True)
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Hashable

from .release import Released, current_record, release

__all__ = ["LiveRelease", "live_state", "share_live_state"]


class LiveRelease:
    """The last released state (respondent set and value) per quantity of one live session."""

    def __init__(self, k: int) -> None:
        self.k = int(k)
        self._state: dict[Hashable, tuple[frozenset, Any]] = {}
        self._lock = threading.Lock()

    def step(self, key: Hashable, people: frozenset, value: Any, *, quantity: Any = None, output: str = "live", cell: str = "") -> Released:
        """The value to show now: the new one if it differs from the last released state by ``k`` people, else the last."""
        people = frozenset(people)
        fresh, last = self._settle(key, people, value)
        if last is None:
            return Released(False, None, len(people), "too_few" if people else "no_data", self.k)
        if quantity is not None:
            release(quantity, last[0], last[1], k=self.k, output=output, cell=cell)
        return Released(True, last[1], len(last[0]), None if fresh else "live_step", self.k)

    def _settle(self, key: Hashable, people: frozenset, value: Any) -> tuple[bool, tuple[frozenset, Any] | None]:
        """Decide: is ``people`` a new state to release (``fresh``)? Returns it and the last released state."""
        with self._lock:
            last = self._state.get(key)
            if last is None:
                fresh = len(people) >= self.k
            else:
                added, left = len(people - last[0]), len(last[0] - people)
                fresh = added >= self.k and (left == 0 or left >= self.k)
            if fresh:
                self._state[key] = (people, value)
                last = self._state[key]
        return fresh, last

    def released(self, key: Hashable) -> tuple[frozenset, Any] | None:
        """The last released (set, value) of a quantity, or None."""
        return self._state.get(key)

    def for_participant(self, key: Hashable, me: Any, *, quantity: Any = None, output: str = "form", cell: str = "") -> Released:
        """The last released group value for one participant: only with ``k`` others in the group.

        The participant's own answers count as a known level over a set of one: the group
        minus themselves must be at least ``k`` people.
        """
        last = self.released(key)
        if last is None:
            return Released(False, None, 0, "own_group", self.k)
        people, value = last
        others = len(people - {me})
        if others < self.k:
            return Released(False, None, len(people), "own_group", self.k)
        if quantity is not None:
            rec = current_record()
            rec.add(output, cell + " (own)", quantity, [me], known=True)
            release(quantity, people, value, k=self.k, output=output, cell=cell)
        return Released(True, value, len(people), None, self.k)


_REGISTRY: dict[Hashable, LiveRelease] = {}
_REG_LOCK = threading.Lock()
_FACTORY: Callable[[Hashable, int], LiveRelease] | None = None


def share_live_state(factory: Callable[[Hashable, int], LiveRelease] | None) -> None:
    """Make :func:`live_state` build its states with ``factory(key, k)``: a server whose live session runs in
    several processes keeps one state for all of them (:mod:`toolkit.workshop.front`); ``None``: this process's own."""
    global _FACTORY
    with _REG_LOCK:
        _FACTORY = factory
        _REGISTRY.clear()


def live_state(key: Hashable, k: int) -> LiveRelease:
    """The shared :class:`LiveRelease` of one live session (e.g. ``(db, instrument, wave, authority)``)."""
    with _REG_LOCK:
        st = _REGISTRY.get(key)
        if st is None or st.k != int(k):
            st = _REGISTRY[key] = LiveRelease(k) if _FACTORY is None else _FACTORY(key, int(k))
        return st
