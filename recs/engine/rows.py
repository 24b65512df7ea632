"""Row reads from an artifact's ``.npy`` file with ``pread``, not through the memory map.

Why: serving reads a few hundred rows of the item-item matrices (EASE's ``B``, the
co-occurrence CSR) per request, scattered over hundreds of MB. The artifact's arrays stay
memory-mapped (``np.load(mmap_mode="r")``: shape, dtype and file offset come from the map,
and the small or fully used arrays are read through it), but touching a mapped row maps the
whole page-cache folio around it into the process, and on recent kernels (large folios for
regular files, e.g. ext4 on Linux 6.18) a folio is up to 2 MB: the 150 rows (6 MB) of one
viewer mapped 200 MB of ``B`` into the worker, and a few viewers all of it, in every worker.
``pread`` copies just the rows from the same page cache (one copy per host, shared by every
worker) into a buffer the request frees; it costs about what the mapped product cost.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NpyFile:
    """Where a C-ordered array lives in an uncompressed ``.npy`` file."""

    path: str
    offset: int
    dtype: np.dtype
    shape: tuple[int, ...]

    @classmethod
    def of(cls, array: np.ndarray) -> NpyFile | None:
        """The file behind ``array`` when it is a whole memory-mapped ``.npy`` array (as
        ``np.load(mmap_mode=...)`` returns it), else None (an in-memory array or a view)."""
        if (
            isinstance(array, np.memmap)
            and isinstance(array.base, mmap.mmap)
            and array.filename is not None
            and array.flags.c_contiguous
        ):
            return cls(str(array.filename), int(array.offset), array.dtype, tuple(array.shape))
        return None

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def read_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows ``rows`` (any order, repeats allowed) in the file's dtype; one ``pread`` per
        run of consecutive rows."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if not rows.size:
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        step = np.diff(rows)
        if (step > 0).all():  # sorted distinct rows, as serving asks: no sort, no second copy
            distinct, inverse = rows, None
        else:
            distinct, inverse = np.unique(rows, return_inverse=True)
            step = np.diff(distinct)
        if distinct[0] < 0 or distinct[-1] >= self.shape[0]:
            raise IndexError("row index out of range")
        out = np.empty((distinct.size, *self.shape[1:]), dtype=self.dtype)
        breaks = np.flatnonzero(step != 1) + 1
        starts, stops = np.r_[0, breaks], np.r_[breaks, distinct.size]
        size = self.row_bytes
        self._read(
            out.reshape(-1).view(np.uint8),
            (self.offset + distinct[starts] * size).tolist(),
            list(zip((starts * size).tolist(), (stops * size).tolist(), strict=True)),
        )
        return out if inverse is None else out[inverse.reshape(-1)]

    def read_ranges(self, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
        """The 1-D segments ``[start, stop)`` concatenated (e.g. the rows of a CSR matrix
        from its ``data`` or ``indices`` file)."""
        starts = np.asarray(starts, dtype=np.int64)
        lengths = np.asarray(stops, dtype=np.int64) - starts
        out = np.empty(int(lengths.sum()), dtype=self.dtype)
        keep = lengths > 0
        size = self.dtype.itemsize
        ends = np.cumsum(lengths)[keep] * size
        self._read(
            out.view(np.uint8),
            (self.offset + starts[keep] * size).tolist(),
            list(zip((ends - lengths[keep] * size).tolist(), ends.tolist(), strict=True)),
        )
        return out

    def _read(self, target: np.ndarray, offsets: list[int], spans: list[tuple[int, int]]) -> None:
        if not offsets:
            return
        view = memoryview(target)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for offset, (lo, hi) in zip(offsets, spans, strict=True):
                while lo < hi:
                    n = os.preadv(fd, [view[lo:hi]], offset)
                    if n <= 0:
                        raise OSError(f"short read in {self.path} at {offset}")
                    lo += n
                    offset += n
        finally:
            os.close(fd)


def bfloat16_encode(values: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits (uint16: the float's top half, rounded to nearest even).

    Why bfloat16 rather than IEEE float16: the same 2 bytes, float32's exponent range (no
    overflow, no subnormals for EASE's small weights), and widening back is a 16-bit shift,
    as fast as a copy, where numpy's float16 cast costs about 1 ns an element (1.5 ms for a
    viewer's 150 rows of 10,000). 8 significant bits are enough: see BENCHMARKS.md."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    if not np.isfinite(values).all():
        raise ValueError("bfloat16 encoding needs finite values")
    bits = values.view(np.uint32)
    return ((bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) >> 16).astype(np.uint16)


def bfloat16_decode(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bits (uint16) -> float32, exactly."""
    wide = np.left_shift(np.asarray(bits, dtype=np.uint16), 16, dtype=np.uint32)
    return wide.view(np.float32)
