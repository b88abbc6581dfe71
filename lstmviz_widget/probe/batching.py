"""Grouping a batch by sequence length, once, for everything the probe runs on it.

A ragged batch is run one group of equal-length sequences at a time, each cut to its own
length, so a model without a Masking layer still gets exact states (numpy only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def length_groups(
    arrays: list[np.ndarray], lengths: np.ndarray | None, mask: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, int, list[np.ndarray]]]:
    """``(sample indices, length, inputs)`` per group of equal-length sequences.

    Each group's inputs are cut to its length, with the user mask (if any) appended as the
    last input. Only a ragged batch is cut: a multi-input model's inputs keep their own
    lengths (a decoder may be longer than its encoder).
    """
    b, t = arrays[0].shape[:2]
    if lengths is None:
        lengths = np.full(b, t, dtype=np.int64)
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        n = int(length)
        group = [a[idx, :n] if n != t else a[idx] for a in arrays]
        if mask is not None:
            group.append(mask[idx, :n])
        yield idx, n, group


def split_kwargs(call_kwargs: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(static, tensors)``: Python values (baked into the compiled pass) and array leaves."""
    static: dict[str, Any] = {}
    tensors: dict[str, Any] = {}
    for key, value in (call_kwargs or {}).items():
        if _is_array(value) or (
            isinstance(value, (list, tuple)) and value and all(_is_array(v) for v in value)
        ):
            tensors[key] = value
        else:
            static[key] = value
    return static, tensors


def _is_array(v: Any) -> bool:
    return hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, (bool, int, float))


def take(tensors: dict[str, Any], idx: np.ndarray, b: int) -> dict[str, Any]:
    """The samples ``idx`` of every batch-first array in ``tensors`` (others as they are)."""

    def one(v: Any) -> Any:
        a = np.asarray(v)
        return a[idx] if a.ndim and a.shape[0] == b and len(idx) != b else a

    return {
        k: [one(x) for x in v] if isinstance(v, (list, tuple)) else one(v)
        for k, v in tensors.items()
    }
