"""The batches of whatever ``capture`` was given, one at a time, without importing Keras.

Accepted: a ``(B, T, ...)`` array (or one array per input of a multi-input model), a list of
arrays of different lengths (ragged), a generator or any iterable of batches (``x`` or
``(x, y)`` or ``(x, y, sample_weight)``), a ``tf.data.Dataset`` (read with
``as_numpy_iterator``) and a ``keras.utils.PyDataset`` (indexed ``0 … num_batches − 1``).
Arrays and lists are cut into ``batch_size`` samples; the other sources keep their own batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Samples per batch when slicing arrays and lists and no ``batch_size`` is given.
DEFAULT_BATCH_SIZE = 64


@dataclass
class Batch:
    """One batch: what ``capture`` is called with."""

    x: Any
    y: Any = None
    mask: Any = None
    tokens: Any = None


@dataclass
class Source:
    """Batches and, when known, how many there are (for the progress bar)."""

    batches: Iterator[Batch]
    n_batches: int | None
    kind: str


def _is_dataset(data: Any) -> bool:
    return hasattr(data, "as_numpy_iterator") and hasattr(data, "element_spec")


def _is_pydataset(data: Any) -> bool:
    return any(c.__name__ == "PyDataset" for c in type(data).__mro__) or (
        hasattr(data, "num_batches") and hasattr(data, "__getitem__")
    )


def is_batch_source(data: Any) -> bool:
    """True for generators, iterators, tf.data datasets, PyDatasets and other iterables that
    are not an array or a list (those are one batch unless a ``batch_size`` is given)."""
    if data is None or isinstance(data, (np.ndarray, list, tuple, str, bytes, Mapping)):
        return False
    if hasattr(data, "__array__") or hasattr(data, "__array_interface__"):
        return False  # tensors and array-likes
    return _is_dataset(data) or _is_pydataset(data) or isinstance(data, Iterable)


def _vocabulary(tokens: Any) -> bool:
    """A vocabulary (id → label) rather than one label list per sample."""
    return isinstance(tokens, Mapping) or (
        isinstance(tokens, (list, tuple)) and bool(tokens) and isinstance(tokens[0], str)
    )


def _split(item: Any, n_inputs: int) -> tuple[Any, Any]:
    """``x`` or ``(x, y[, sample_weight])`` → ``(x, y)``, as ``model.fit`` reads a batch."""
    if isinstance(item, Mapping):
        raise TypeError(
            "a batch is a dict; capture takes x or (x, y) batches. Yield the input array "
            "(or a list of arrays for a multi-input model) instead."
        )
    if (
        isinstance(item, tuple)
        and len(item) in (2, 3)
        and (n_inputs == 1 or (isinstance(item[0], (list, tuple)) and len(item[0]) == n_inputs))
    ):
        return item[0], item[1]
    return item, None


def _numpy(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_numpy(a) for a in x]
    if x is None or isinstance(x, np.ndarray):
        return x
    return np.asarray(x)


def _n_samples(x: Any, n_inputs: int) -> int:
    if n_inputs > 1:
        return len(x[0])
    return len(x)


def batches_of(
    data: Any,
    *,
    n_inputs: int = 1,
    batch_size: int | None = None,
    y: Any = None,
    mask: Any = None,
    tokens: Any = None,
) -> Source:
    """The batches of ``data`` (see the module docstring) with their ``y``, mask and tokens."""
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    vocab = tokens if _vocabulary(tokens) else None
    if is_batch_source(data):
        if mask is not None or y is not None:
            raise TypeError(
                "mask= and y= go with an array or a list; a generator, tf.data.Dataset or "
                "PyDataset yields its own targets as (x, y) batches."
            )
        if tokens is not None and vocab is None:
            raise TypeError(
                "with batches from a generator or dataset, tokens= must be a vocabulary (a "
                "list or dict mapping token ids to labels), not one label list per sample."
            )
        if _is_dataset(data):
            try:
                card = int(np.asarray(data.cardinality()))
            except Exception:
                card = -1
            items: Iterable[Any] = data.as_numpy_iterator()
            n, kind = (card if card >= 0 else None), "tf.data.Dataset"
        elif _is_pydataset(data):
            count = getattr(data, "num_batches", None)
            if count is None:
                count = len(data)
            items = (data[i] for i in range(int(count)))
            n, kind = int(count), type(data).__name__
        else:
            items = iter(data)
            n = len(data) if hasattr(data, "__len__") else None
            kind = "generator" if hasattr(data, "__next__") else type(data).__name__

        def gen() -> Iterator[Batch]:
            for item in items:
                x, yy = _split(item, n_inputs)
                yield Batch(_numpy(x), _numpy(yy), None, vocab)

        return Source(gen(), n, kind)

    size = int(batch_size or DEFAULT_BATCH_SIZE)
    if n_inputs > 1:
        if not isinstance(data, (list, tuple)) or len(data) != n_inputs:
            raise ValueError(
                f"the model has {n_inputs} inputs; pass a list of {n_inputs} arrays, one per "
                "input, or a generator of such lists."
            )
        total = len(data[0])
    elif isinstance(data, (list, tuple)) and data and all(np.ndim(s) >= 1 for s in data):
        total = len(data)  # a ragged list (or a list of equal-length sequences)
    else:
        data = np.asarray(data)
        if data.ndim == 0:
            raise ValueError("seq is a scalar; pass sequences batch first: (B, T, ...)")
        total = data.shape[0]
    per_sample_tokens = tokens is not None and vocab is None
    if per_sample_tokens and len(tokens) != total:
        raise ValueError(
            f"tokens must be one label list per sample ({total} lists), or a vocabulary; got "
            f"{len(tokens)} lists"
        )
    for name, value in (("y", y), ("mask", mask)):
        if value is not None and len(value) != total:
            raise ValueError(f"{name} has {len(value)} rows; expected one per sample ({total})")

    def cut(a: Any, i: int) -> Any:
        if a is None:
            return None
        if isinstance(a, np.ndarray):
            return a[i : i + size]
        return list(a[i : i + size])

    def sliced() -> Iterator[Batch]:
        for i in range(0, total, size):
            if n_inputs > 1:
                x: Any = [np.asarray(a)[i : i + size] for a in data]
            else:
                x = cut(data, i)
            yield Batch(
                x,
                None if y is None else np.asarray(y)[i : i + size],
                None if mask is None else np.asarray(mask)[i : i + size],
                cut(tokens, i) if per_sample_tokens else vocab,
            )

    return Source(sliced(), -(-total // size), "list" if isinstance(data, list) else "array")


def n_samples_of(x: Any, n_inputs: int) -> int:
    """Samples in one batch ``x``."""
    return _n_samples(x, n_inputs)
