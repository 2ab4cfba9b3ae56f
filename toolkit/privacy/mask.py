"""Respondent sets as sparse bit masks: :class:`Mask`, an immutable set of respondent numbers.

A record numbers its respondents in the order it first sees them (:meth:`toolkit.privacy.Record.mask`),
so on a large cohort a small set (the 20 people of the 900th authority) sits at bit 50,000 and up. As a
plain integer it would be 50,000 bits of mostly zero words: every record, pickle and join would grow with
(cohort size)². A :class:`Mask` keeps the set from its lowest non-empty 64-bit word on: ``bits << 64·lo``,
so its size, and the cost of ``|``, ``&``, :meth:`within`, :meth:`minus`, hashing and pickling, follow the
span of the set, not its place in the numbering.

A mask is equal to (and hashes like) the integer it stands for, so masks and plain integer bit masks
(tests, the reference rules) can be compared and share dict keys.

Example
-------
>>> a, b = Mask.from_positions([200_000, 200_003]), Mask.from_positions([200_003])
>>> (b.within(a), a.within(b), (a | b).bit_count(), a.minus(b).positions().tolist(), (a & b) == b)
(True, False, 2, [200000], True)
>>> a == (1 << 200_000 | 1 << 200_003), hash(a) == hash(1 << 200_000 | 1 << 200_003), a.lo, a.bits
(True, True, 3125, 9)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["EMPTY", "Mask"]

_P = sys.hash_info.modulus  # hash(n) == n % _P for a non-negative int n
_P61 = 2**61 - 1  # (the usual modulus: 2**61 ≡ 1, so a shift by s is a shift by s % 61)
_LITTLE = sys.byteorder == "little"
_SMALL = 48  # sets up to this size are built and listed bit by bit


def _words_of(bits: int) -> int:
    return (bits.bit_length() + 63) >> 6


class Mask:
    """An immutable set of non-negative bit numbers: the integer ``bits << 64·lo``, ``bits`` starting in its
    lowest word (``lo`` the first non-empty 64-bit word; the empty mask is ``lo = bits = 0``)."""

    __slots__ = ("_hash", "bits", "lo")

    lo: int
    bits: int

    def __init__(self, value: int = 0) -> None:
        value = int(value)
        if value < 0:
            raise ValueError("a mask is a non-negative integer")
        lo = ((value & -value).bit_length() - 1) >> 6 if value else 0
        self.lo, self.bits, self._hash = lo, value >> (lo << 6), None

    @classmethod
    def _make(cls, lo: int, bits: int) -> Mask:
        """A mask from ``lo`` and ``bits`` whose lowest word may be empty (normalised here)."""
        if not bits:
            return EMPTY
        if not bits & 0xFFFFFFFFFFFFFFFF:
            skip = ((bits & -bits).bit_length() - 1) >> 6
            bits >>= skip << 6
            lo += skip
        m = object.__new__(cls)
        m.lo, m.bits, m._hash = lo, bits, None
        return m

    @classmethod
    def of(cls, m: Mask | int) -> Mask:
        """``m`` as a mask (a mask itself, or an integer bit mask converted)."""
        return m if type(m) is cls else cls(m)  # type: ignore[arg-type]

    @classmethod
    def from_positions(cls, positions: Iterable[int] | np.ndarray) -> Mask:
        """The mask of these bit numbers (any order, repeats allowed), built over their own range."""
        p = positions if isinstance(positions, np.ndarray) else np.fromiter(positions, dtype=np.int64)
        if not p.size:
            return EMPTY
        lo = int(p.min()) >> 6
        base = lo << 6
        if p.size <= _SMALL:  # a few bits: set one by one (numpy's fixed cost is larger)
            bits = 0
            for x in (p - base).tolist():
                bits |= 1 << x
            return _raw(lo, bits)
        flags = np.zeros(int(p.max()) - base + 1, dtype=bool)
        flags[p - base] = True
        m = object.__new__(cls)
        m.lo, m._hash = lo, None
        m.bits = int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")
        return m

    @classmethod
    def union(cls, masks: Iterable[Mask]) -> Mask:
        """The union of many masks in one pass over their words (or-ing them one by one into a growing mask
        would copy it once per mask: quadratic for a cohort's union of its authorities)."""
        ms = [m for m in masks if m.bits]
        if len(ms) <= 8:
            out = EMPTY
            for m in ms:
                out = out | m
            return out
        lo = min(m.lo for m in ms)
        sizes = [_words_of(m.bits) for m in ms]
        arr = np.zeros(max(m.lo + n for m, n in zip(ms, sizes)) - lo, dtype="<u8")
        for m, n in zip(ms, sizes):
            at = m.lo - lo
            arr[at:at + n] |= np.frombuffer(m.bits.to_bytes(n * 8, "little"), dtype="<u8")
        return cls._make(lo, int.from_bytes(arr.tobytes(), "little"))

    # -- the set --------------------------------------------------------------------------------------------------

    def bit_count(self) -> int:
        """The number of members."""
        return self.bits.bit_count()

    def __bool__(self) -> bool:
        return bool(self.bits)

    def __int__(self) -> int:
        return self.bits << (self.lo << 6)

    def positions(self) -> np.ndarray:
        """The bit numbers, ascending (only the non-zero bytes are unpacked)."""
        bits = self.bits
        if not bits:
            return np.zeros(0, dtype=np.int64)
        if bits.bit_count() <= _SMALL:  # a few bits: found one by one (numpy's fixed cost is larger)
            base, out = self.lo << 6, []
            while bits:
                low = bits & -bits
                out.append(base + low.bit_length() - 1)
                bits ^= low
            return np.array(out, dtype=np.int64)
        raw = np.frombuffer(self.bits.to_bytes((self.bits.bit_length() + 7) // 8, "little"), dtype=np.uint8)
        at = np.flatnonzero(raw)
        row, col = np.nonzero(np.unpackbits(raw[at], bitorder="little").reshape(-1, 8))
        return at[row] * 8 + col + (self.lo << 6)

    def words(self) -> dict[int, int]:
        """The non-zero 64-bit words: ``{word number: word}``."""
        bits, lo = self.bits, self.lo
        if not bits >> 64:
            return {lo: bits} if bits else {}
        n = _words_of(bits)
        raw = bits.to_bytes(n * 8, "little")
        if n <= 64 and _LITTLE:
            return {lo + i: v for i, v in enumerate(memoryview(raw).cast("Q")) if v}
        arr = np.frombuffer(raw, dtype="<u8")
        nz = np.flatnonzero(arr)
        return dict(zip((nz + lo).tolist(), arr[nz].tolist()))

    # -- set algebra ----------------------------------------------------------------------------------------------

    def __or__(self, other: Mask | int) -> Mask:
        o = other if type(other) is Mask else Mask.of(other)  # type: ignore[arg-type]
        if not o.bits:
            return self
        if not self.bits:
            return o
        a, b = (self, o) if self.lo <= o.lo else (o, self)
        return _raw(a.lo, a.bits | (b.bits << ((b.lo - a.lo) << 6)))

    __ror__ = __or__

    def __and__(self, other: Mask | int) -> Mask:
        o = other if type(other) is Mask else Mask.of(other)  # type: ignore[arg-type]
        if not self.bits or not o.bits:
            return EMPTY
        a, b = (self, o) if self.lo <= o.lo else (o, self)
        return Mask._make(b.lo, (a.bits >> ((b.lo - a.lo) << 6)) & b.bits)

    __rand__ = __and__

    def minus(self, other: Mask | int) -> Mask:
        """The members not in ``other`` (``self & ~other``)."""
        o = other if type(other) is Mask else Mask.of(other)  # type: ignore[arg-type]
        if not self.bits or not o.bits:
            return self
        d = o.lo - self.lo
        if d >= 0:
            return Mask._make(self.lo, self.bits & ~(o.bits << (d << 6)))
        return Mask._make(self.lo, self.bits & ~(o.bits >> (-d << 6)))

    def within(self, other: Mask | int) -> bool:
        """Whether every member is one of ``other``'s (``self & ~other == 0``)."""
        o = other if type(other) is Mask else Mask.of(other)  # type: ignore[arg-type]
        if not self.bits:
            return True
        d = self.lo - o.lo
        if d < 0 or not o.bits:
            return False
        return not self.bits & ~(o.bits >> (d << 6))

    def overlaps(self, other: Mask | int) -> bool:
        """Whether the two share a member."""
        return bool(self & other)

    # -- value semantics ------------------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is Mask:
            return self.bits == other.bits and self.lo == other.lo
        if isinstance(other, int) and not isinstance(other, bool):
            return other >= 0 and int(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        h = self._hash
        if h is None:  # the hash of the integer the mask stands for, without building it
            h = self._hash = (self.bits % _P << (self.lo << 6) % 61) % _P if _P == _P61 else \
                self.bits % _P * pow(2, self.lo << 6, _P) % _P
        return h

    def __reduce__(self) -> tuple[Any, tuple[int, int]]:
        return _raw, (self.lo, self.bits)

    def __repr__(self) -> str:
        return f"Mask(lo={self.lo}, bits={self.bits:#x})"


def _raw(lo: int, bits: int) -> Mask:
    """A mask from a normalised ``(lo, bits)`` pair (the lowest word of ``bits`` non-empty, or both 0)."""
    m = object.__new__(Mask)
    m.lo, m.bits, m._hash = lo, bits, None
    return m


EMPTY = _raw(0, 0)
