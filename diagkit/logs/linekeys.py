"""64-bit keys of log lines with their digits as "0", computed with numpy for a whole chunk at
once, and a direct-mapped table from key to a small integer.

The bulk miner (:func:`diagkit.logs.signatures._bulk_ids`) looks every record up by its first
line with each digit as "0" (lines that differ only in their numbers share a template). Done in
Python that is a bytes object, a translate and a dict look-up per record: on a 1 GiB log of
ten million records most of the run. Here the chunk is read as 8-byte words, the digits are
zeroed in the words (SWAR: a few integer operations per 8 bytes, no per-byte table look-up,
which numpy does at 2-4 ns a byte), and each line's key is a polynomial hash of its words:
about a tenth of a microsecond a line. Only lines whose key the table has not met go to Python.

A line's key depends on where the line starts within its 8-byte word (the words are cut from
the chunk, not from the line): the same text at another alignment is another key, met once
more in Python (at most 8 per distinct line). The key includes the line's length; two
different lines share a key with odds of about 2**-64 per pair.
"""

from __future__ import annotations

import numpy as np

_U = np.uint64
_ONES = _U(0xFFFF_FFFF_FFFF_FFFF)
_ZERO_CHARS = _U(0x3030_3030_3030_3030)  # "0" in every byte
_LOW7 = _U(0x7F7F_7F7F_7F7F_7F7F)
_TO_TEN = _U(0x7676_7676_7676_7676)  # 0x80 - 10 in every byte: bit 7 set from 10 up
_HIGH = _U(0x8080_8080_8080_8080)
_NIBBLE = _U(0x0F)
_K1 = _U(0x9E37_79B9_7F4A_7C15)
_K2 = _U(0xC2B2_AE3D_27D4_EB4F)
_K3 = _U(0x1656_67B1_9E37_79F9)
_Q = 0xFF51_AFD7_ED55_8CCD  # odd: invertible modulo 2**64


def mix(x: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (multiply, xor-shift; wraps modulo 2**64)."""
    x = x * _K1
    x ^= x >> _U(31)
    x *= _K2
    x ^= x >> _U(29)
    return x


def zero_digits(words: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """``words`` (uint64, 8 bytes each) with every ASCII digit byte turned into "0", in
    ``out`` (``tmp``: scratch of the same size; both may be longer)."""
    n = len(words)
    t, over = out[:n], tmp[:n]
    np.bitwise_xor(words, _ZERO_CHARS, out=t)  # a digit byte is now 0..9
    # bit 7 of (t & 0x7f) + 0x76 is set from 10 up; no carry leaves a byte (0x7f + 0x76 < 0x100)
    np.bitwise_and(t, _LOW7, out=over)
    np.add(over, _TO_TEN, out=over)
    np.bitwise_or(over, t, out=over)
    np.invert(over, out=over)
    np.bitwise_and(over, _HIGH, out=over)  # bit 7: a digit
    np.right_shift(over, _U(7), out=over)
    np.multiply(over, _NIBBLE, out=over)
    np.invert(over, out=over)
    return np.bitwise_and(words, over, out=t)


class LineHasher:
    """The keys of a chunk's lines. Its scratch arrays and the powers of the hash base (and
    of its inverse) per word are kept from chunk to chunk: fresh temporaries of a few MB per
    chunk were kept by malloc, 40 MB more peak memory on a 1 GiB log."""

    def __init__(self) -> None:
        self._pow = np.ones(1, dtype=np.uint64)
        self._inv = np.ones(1, dtype=np.uint64)
        self._bytes = np.zeros(8, dtype=np.uint8)
        self._work = np.zeros((3, 1), dtype=np.uint64)

    def _grow(self, n: int) -> None:
        """Room for ``n`` words."""
        if len(self._pow) < n:
            n = max(n, len(self._pow) + len(self._pow) // 4)
            with np.errstate(over="ignore"):
                self._pow = np.cumprod(np.concatenate(
                    ([_U(1)], np.full(n - 1, _Q, dtype=np.uint64))), dtype=np.uint64)
                self._inv = np.cumprod(np.concatenate(
                    ([_U(1)], np.full(n - 1, pow(_Q, -1, 1 << 64), dtype=np.uint64))),
                    dtype=np.uint64)
            self._work = np.zeros((3, n), dtype=np.uint64)
            self._bytes = np.zeros(8 * n, dtype=np.uint8)

    def load(self, data: bytes) -> np.ndarray:
        """``data`` as bytes in the scratch (zero-padded to whole words, and one more word)."""
        words = len(data) // 8 + 2
        self._grow(words)
        raw = self._bytes[: 8 * words]
        raw[: len(data)] = np.frombuffer(data, dtype=np.uint8)
        raw[len(data):] = 0
        return raw

    def keys(self, raw: np.ndarray, s: np.ndarray, e: np.ndarray) -> np.ndarray:
        """The key of each line ``[s, e)`` (byte offsets in ``raw``, which :meth:`load` gave:
        it starts on the file's 8-byte grid)."""
        n = len(raw) // 8
        words = zero_digits(raw.view(np.uint64), self._work[0], self._work[1])
        qpow, qinv = self._pow, self._inv
        c, tmp = self._work[1, :n], self._work[2, :n]
        np.multiply(words, _K1, out=c)  # mix(words), in place
        np.bitwise_xor(c, np.right_shift(c, _U(31), out=tmp), out=c)
        np.multiply(c, _K2, out=c)
        np.bitwise_xor(c, np.right_shift(c, _U(29), out=tmp), out=c)
        np.multiply(c, qpow[:n], out=c)
        np.cumsum(c, out=c)  # wraps modulo 2**64
        length = (e - s).astype(np.uint64)
        e = np.maximum(e, s + 1)  # an empty line: its key is its (zero) length and alignment
        w0 = s >> 3
        w1 = (e - 1) >> 3
        lo_mask = _ONES << ((s & 7) * 8).astype(np.uint64)
        hi_mask = _ONES >> ((7 - ((e - 1) & 7)) * 8).astype(np.uint64)
        one = w0 == w1
        first = words[w0] & lo_mask & np.where(one, hi_mask, _ONES)
        h = mix(first) * qpow[w0]
        # the words between the first and the last: a difference of the running sum
        rest = mix(words[w1] & hi_mask) * qpow[w1] + (c[np.maximum(w1 - 1, 0)] - c[w0])
        h += np.where(one, _U(0), rest)
        h *= qinv[w0]  # the same line at another word index: the same sum
        h ^= length * _K3 + (s & 7).astype(np.uint64)
        return mix(h)


class KeyTable:
    """A cache of 64-bit key -> int32 value in two numpy arrays, each key in one of two slots
    (its low bits or its high bits): the ten million look-ups of a 1 GiB log are two gathers.
    A key that finds both of its slots taken pushes one out (the caller keeps the truth and
    fills it in again: with one slot, keys that shared it took turns, a third of the misses
    on that log). Key 0 marks an empty slot (a real key 0 is only never cached)."""

    def __init__(self, bits: int = 20) -> None:
        self.bits = bits
        self.mask = _U((1 << bits) - 1)
        self.keys = np.zeros(1 << bits, dtype=np.uint64)
        self.values = np.full(1 << bits, -1, dtype=np.int32)

    def _slots(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ((keys & self.mask).astype(np.int64),
                ((keys >> _U(64 - self.bits)) & self.mask).astype(np.int64))

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, found) of ``keys``; values are meaningless where not found."""
        one, two = self._slots(keys)
        found = self.keys[one] == keys
        values = self.values[one]
        other = np.flatnonzero(~found)
        if len(other):
            at = two[other]
            hit = self.keys[at] == keys[other]
            values[other] = np.where(hit, self.values[at], values[other])
            found[other] = hit
        return values, found & (keys != 0)

    def put(self, keys: np.ndarray, values: np.ndarray) -> None:
        one, two = self._slots(keys)
        # the first slot when it is free, else the second (whoever was there goes)
        slot = np.where(self.keys[one] == 0, one, two)
        self.keys[slot] = keys
        self.values[slot] = values


def ragged_hash(raw: np.ndarray, at: np.ndarray, positions: np.ndarray, first: np.ndarray,
                count: np.ndarray) -> np.ndarray:
    """Per line ``i``: a hash of the bytes ``raw[at[i] + positions[first[i]: first[i] +
    count[i]]]`` (``count`` >= 1): the few bytes a line's key hides but the miner reads."""
    total = int(count.sum())
    ends = np.cumsum(count)
    begin = ends - count
    j = np.arange(total) - np.repeat(begin, count)  # place within the line's positions
    idx = np.repeat(at, count) + positions[np.repeat(first, count) + j]
    vals = (raw[np.minimum(idx, len(raw) - 1)].astype(np.uint64) + _U(1)) * mix(
        j.astype(np.uint64) + _U(1))
    return mix(np.add.reduceat(vals, begin))
