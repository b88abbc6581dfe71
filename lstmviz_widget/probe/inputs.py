"""Checking and normalising what the user passes to ``capture``: sequences, masks, tokens.

Everything here is numpy; the expected shapes come from the model's input specs, which the
caller reads off Keras and passes in as plain tuples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Batch:
    """Model inputs ready for ``predict_on_batch``, grouped by true sequence length."""

    arrays: list[np.ndarray]  # one per model input, each (B, T, ...) padded
    lengths: np.ndarray  # (B,) valid steps per sample
    user_mask: np.ndarray | None  # (B, T) bool, from the `mask=` argument


def _describe(shape: Sequence[int | None], batch: bool = True) -> str:
    dims = [
        "T" if i == 1 and d is None else "?" if d is None else str(d) for i, d in enumerate(shape)
    ]
    if batch:
        dims[0] = "batch"
    else:
        dims = dims[1:]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _as_numeric(a: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(a)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            f"{what} could not be turned into an array ({err}). For sequences of different "
            "lengths pass a list of arrays, one per sequence."
        ) from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(
            f"{what} has dtype {arr.dtype}; expected numbers (float features, or integer token "
            "ids for an Embedding front end). Map strings to ids first and pass the labels as "
            "tokens=."
        )
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float32)
    return arr


def _check_one(arr: np.ndarray, spec: tuple[int | None, ...], dtype: str, what: str) -> np.ndarray:
    """Bring one input to ``(B, T, ...)`` matching ``spec`` (a Keras input shape)."""
    rank = len(spec)
    if arr.ndim == rank - 1:
        arr = arr[None]
    if arr.ndim != rank:
        raise ValueError(
            f"{what} has shape {arr.shape}, but the model expects {_describe(spec)} "
            f"(or {_describe(spec, batch=False)} for one sequence without the batch axis)."
        )
    for axis, (got, want) in enumerate(zip(arr.shape, spec, strict=True)):
        if axis and want is not None and got != want:
            name = "timesteps" if axis == 1 else f"axis {axis}"
            if axis == rank - 1 and rank >= 3:
                name = "features"
            raise ValueError(
                f"{what} has {got} {name} (shape {arr.shape}), but the model expects "
                f"{want}: input shape {_describe(spec)}."
            )
    if arr.shape[0] == 0:
        raise ValueError(
            f"{what} is an empty batch (shape {arr.shape}); pass at least one sequence."
        )
    if rank >= 2 and arr.shape[1] == 0:
        raise ValueError(
            f"{what} is an empty sequence (shape {arr.shape}); pass at least one step."
        )
    want_int = dtype.startswith(("int", "uint"))
    if want_int:
        if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
            raise TypeError(
                f"{what} holds non-integer values, but the model's input is {dtype} "
                "(token ids for an Embedding)."
            )
        arr = arr.astype(dtype)
    else:
        arr = arr.astype(np.float32 if dtype in ("float32", "") else dtype)
        bad = ~np.isfinite(arr)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{what} contains {int(bad.sum())} NaN/Inf value(s), first at index {where}. "
                "Replace them (e.g. numpy.nan_to_num) or mark those steps with mask=."
            )
    return arr


def prepare_batch(
    seq: Any,
    specs: list[tuple[int | None, ...]],
    dtypes: list[str],
    mask: Any = None,
) -> Batch:
    """Validate ``seq`` against the model's input specs; pad ragged batches.

    A single-input model takes an array ``(T, ...)``/``(B, T, ...)`` or a list of sequences of
    different lengths. A multi-input model takes a list with one array per input, as
    ``model.predict`` does.
    """
    if seq is None:
        raise TypeError("seq is None; pass the input sequence(s) to probe.")
    if len(specs) > 1:
        if not isinstance(seq, (list, tuple)) or len(seq) != len(specs):
            raise ValueError(
                f"the model has {len(specs)} inputs; pass a list of {len(specs)} arrays, one per "
                f"input, with shapes {[_describe(s) for s in specs]}."
            )
        arrays = [
            _check_one(_as_numeric(a, f"input {i}"), s, d, f"input {i}")
            for i, (a, s, d) in enumerate(zip(seq, specs, dtypes, strict=True))
        ]
        sizes = {a.shape[0] for a in arrays}
        if len(sizes) != 1:
            raise ValueError(f"the model inputs have different batch sizes {sorted(sizes)}.")
        # the longest input's steps: each layer keeps its own time axis (encoder vs decoder)
        t = max(a.shape[1] for a in arrays if a.ndim >= 2)
        lengths = np.full(arrays[0].shape[0], t, dtype=np.int64)
    else:
        spec, dtype = specs[0], dtypes[0]
        ragged = (
            isinstance(seq, (list, tuple))
            and len(seq) > 0
            and all(np.ndim(s) == len(spec) - 1 for s in seq)
            and len({np.shape(s)[0] for s in seq}) > 1
        )
        if ragged:
            parts = [
                _check_one(_as_numeric(s, f"sequence {i}"), spec, dtype, f"sequence {i}")
                for i, s in enumerate(seq)
            ]
            lengths = np.array([p.shape[1] for p in parts], dtype=np.int64)
            t = int(lengths.max())
            out = np.zeros((len(parts), t, *parts[0].shape[2:]), dtype=parts[0].dtype)
            for i, p in enumerate(parts):
                out[i, : p.shape[1]] = p[0]
            arrays = [out]
        else:
            if isinstance(seq, (list, tuple)) and len(seq) == 0:
                raise ValueError("seq is an empty list; pass at least one sequence.")
            arrays = [_check_one(_as_numeric(seq, "seq"), spec, dtype, "seq")]
            lengths = np.full(arrays[0].shape[0], arrays[0].shape[1], dtype=np.int64)
    b, t = arrays[0].shape[:2]
    user_mask = None
    if mask is not None:
        m = np.asarray(mask)
        if m.ndim == 1:
            m = m[None]
        if m.shape != (b, t):
            raise ValueError(
                f"mask has shape {np.shape(mask)}; expected (B, T) = {(b, t)} or (T,)."
            )
        if m.dtype.kind not in "biuf":
            raise TypeError(f"mask has dtype {m.dtype}; expected bool (True = process this step).")
        user_mask = m.astype(bool)
    return Batch(arrays=arrays, lengths=lengths, user_mask=user_mask)


def resolve_tokens(tokens: Any, ids: np.ndarray | None, b: int, t: int) -> list[list[str]] | None:
    """Labels per step: per-sequence lists of str, or a vocabulary (list/dict) for token ids.

    A flat list of ``T`` strings for a single sequence is read as labels; for a vocabulary
    whose size happens to equal ``T`` pass a dict.
    """
    if tokens is None:
        return None
    if isinstance(tokens, Mapping) or (
        isinstance(tokens, (list, tuple))
        and tokens
        and all(isinstance(x, str) for x in tokens)
        and not (b == 1 and len(tokens) == t)
    ):
        if (
            (ids is None or ids.dtype.kind not in "iu")
            and b == 1
            and not isinstance(tokens, Mapping)
        ):
            raise ValueError(
                f"{len(tokens)} labels were given for {t} steps: tokens= needs one label per "
                f"step (a list of {t} strings), or a vocabulary when the input is token ids."
            )
        if ids is None or ids.dtype.kind not in "iu":
            raise ValueError(
                "tokens looks like a vocabulary (id -> label), but the model input is not integer "
                f"token ids. Pass one label per step instead: a list of {t} strings, or B lists."
            )
        lookup = tokens
        out = []
        for row in ids.reshape(ids.shape[0], -1)[:, :t]:
            labels = []
            for i in row:
                try:
                    labels.append(str(lookup[int(i)]))
                except (KeyError, IndexError):
                    labels.append(str(int(i)))
            out.append(labels)
        return out
    if isinstance(tokens, (list, tuple)) and tokens and isinstance(tokens[0], str):
        tokens = [tokens]
    if not isinstance(tokens, (list, tuple)) or len(tokens) != b:
        raise ValueError(
            f"tokens must be one label per step: a list of {t} strings for one sequence, or a "
            f"list of {b} lists for a batch of {b}."
        )
    out = []
    for i, row in enumerate(tokens):
        row = [str(x) for x in row]
        if len(row) > t:
            raise ValueError(f"tokens[{i}] has {len(row)} labels but the sequence has {t} steps.")
        out.append(row + [""] * (t - len(row)))
    return out
