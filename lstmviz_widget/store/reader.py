"""``Capture.open(path)``: a store as a Capture of dask arrays, read only when used.

Opening reads the group's metadata and the per-sample ``lengths`` and nothing else; every
per-step array is a dask array over the zarr chunks (several chunks of samples per dask block),
so analyses run in parallel on threads, or on a ``dask.distributed`` cluster when a client is
active, unchanged. Needs zarr and dask, not Keras.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from ..data import AttentionCapture, Capture, LayerCapture, Predictions
from . import require
from .writer import STORE_FORMAT, store_key

#: Target bytes of one dask block (a whole number of zarr chunks along samples).
BLOCK_BYTES = 64 << 20


class IncompleteStoreError(ValueError):
    """The store's capture did not finish (interrupted, failed, or still running)."""


class LazyTokens(Sequence[list[str]]):
    """Tokens of a store, one sample's row read when indexed."""

    def __init__(self, arr: Any) -> None:
        self._arr = arr

    def __len__(self) -> int:
        return int(self._arr.shape[0])

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...
    def __getitem__(self, i: int | slice) -> list[str] | list[list[str]]:
        if isinstance(i, slice):
            return [[str(s) for s in row] for row in np.asarray(self._arr[i])]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sample {i} out of range [0, {n - 1}]")
        return [str(s) for s in np.asarray(self._arr[int(i) % n])]

    def __iter__(self) -> Iterator[list[str]]:
        n = len(self)
        step = max(1, int(self._arr.chunks[0]))
        for s in range(0, n, step):
            yield from self[s : min(s + step, n)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (list, LazyTokens)) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"LazyTokens({len(self)} samples × {self._arr.shape[1]} steps)"


def _dask(da: Any, arr: Any) -> Any:
    chunks = list(arr.chunks)
    row = max(1, int(np.prod(arr.shape[1:], dtype=np.int64)) * arr.dtype.itemsize)
    per_block = max(chunks[0], (BLOCK_BYTES // row) // chunks[0] * chunks[0])
    chunks[0] = per_block
    return da.from_zarr(arr, chunks=tuple(chunks))


class StoredCapture(Capture):
    """A :class:`~lstmviz_widget.Capture` whose per-step arrays are dask arrays over a zarr
    store (``Capture.open``). Weights are numpy; ``tokens`` reads a row when indexed.

    Attributes
    ----------
    path : Path or None
        The store directory (None for an in-memory store).
    meta : dict
        The store's metadata: ``model`` (name, class, parameters, layers), ``n_batches``,
        ``created``, the layer descriptions.
    """

    path: Path | None
    meta: dict[str, Any]
    _root: Any

    def select(self, samples: int | slice | Sequence[int]) -> Capture:
        """The given samples as an in-memory Capture (numpy arrays). Reads the zarr chunks
        that hold them and no others (the explorer's one sample on screen)."""
        n = self.n_samples
        if isinstance(samples, (int, np.integer)):
            if not -n <= int(samples) < n:
                raise IndexError(f"sample {samples} out of range [0, {n - 1}]")
            index: list[int] = [int(samples) % n]
        elif isinstance(samples, slice):
            index = list(range(n))[samples]
        else:
            index = [int(s) for s in samples]
        idx = np.asarray(index, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"samples out of range [0, {n - 1}]")
        contiguous = idx.size > 0 and bool(np.all(np.diff(idx) == 1))

        def read(path: str) -> np.ndarray:
            arr = self._root[path]
            if contiguous:
                return np.asarray(arr[int(idx[0]) : int(idx[-1]) + 1])
            return np.asarray(arr.oindex[idx])

        layers = {}
        for i, (lc, lm) in enumerate(zip(self, self.meta["layers"], strict=True)):
            arrays = {
                k: v for k, v in lc._arrays().items() if k.startswith(("weight:", "grad_weight:"))
            }
            for key in lm["arrays"]:
                if key == "mask" and lc.mask is None:
                    continue
                arrays[key] = read(f"layers/{i}/{store_key(key)}")
            layers[lc.name] = LayerCapture._from_parts(lc._meta(), arrays)
        attention = {
            name: AttentionCapture(scores=read(f"attention/{i}/scores"), **att._meta())
            for i, (name, att) in enumerate(self.attention.items())
        }
        predictions = None
        if self.predictions is not None:
            found: dict[str, Any] = {
                k: read(f"predictions/{k}") for k in self.meta["prediction_arrays"]
            }
            predictions = Predictions(**self.predictions._meta(), **found)
        tokens = None
        if self.tokens is not None:
            tokens = [[str(t) for t in row] for row in read("tokens")]
        return Capture(
            layers=layers,
            lengths=np.asarray(self.lengths)[idx],
            tokens=tokens,
            model_name=self.model_name,
            attention=attention,
            predictions=predictions,
            saliency=read("saliency") if self.saliency is not None else None,
            loss=self.loss,
        )

    def compute(self) -> Capture:
        """The whole store as an in-memory Capture (mind the size: see ``meta``)."""
        return self.select(slice(None))

    def __repr__(self) -> str:
        where = f" at {self.path}" if self.path is not None else ""
        return super().__repr__().replace("Capture(", "StoredCapture(", 1)[:-1] + f"){where}"


def _group(path: str | os.PathLike[str] | Any) -> tuple[Any, Path | None]:
    zarr, _ = require()
    if isinstance(path, (str, os.PathLike)):
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"no store at {p}")
        if not (p / "zarr.json").exists():
            raise ValueError(f"{p} is not a zarr store (no zarr.json); Capture.load reads .npz")
        return zarr.open_group(str(p), mode="r"), p
    return zarr.open_group(path, mode="r"), None


def open_store(path: str | os.PathLike[str] | Any) -> StoredCapture:
    """Open a store written by ``capture(..., store=path)``: lazy, no Keras needed.

    Raises
    ------
    IncompleteStoreError
        When the capture that wrote it did not finish.
    """
    _, da = require()
    root, p = _group(path)
    meta = root.attrs.get("lstmviz")
    if not isinstance(meta, dict) or not meta.get("complete"):
        raise IncompleteStoreError(
            f"{p or 'the store'} is an incomplete capture store: the capture that wrote it was "
            "interrupted, failed or is still running (no completion marker). Capture again, "
            "e.g. capture(model, data, store=..., overwrite=True)."
        )
    if meta.get("format") != STORE_FORMAT:
        raise ValueError(
            f"{p} holds store format {meta.get('format')!r}; this version of lstmviz-widget "
            f"reads format {STORE_FORMAT}"
        )
    lengths = np.asarray(root["lengths"][...])
    layers: dict[str, LayerCapture] = {}
    for i, lm in enumerate(meta["layers"]):
        arrays: dict[str, Any] = {}
        for key in lm["arrays"]:
            arrays[key] = _dask(da, root[f"layers/{i}/{store_key(key)}"])
        for w in lm["weights"]:
            arrays[f"weight:{w}"] = np.asarray(root[f"layers/{i}/weight/{w}"][...])
        for w in lm["grad_weights"]:
            arrays[f"grad_weight:{w}"] = np.asarray(root[f"layers/{i}/grad_weight/{w}"][...])
        if not lm["has_mask"]:
            arrays.pop("mask", None)  # as in memory: no mask when every step is valid
        layers[lm["name"]] = LayerCapture._from_parts(lm, arrays)
    attention = {
        am["name"]: AttentionCapture(scores=_dask(da, root[f"attention/{i}/scores"]), **am)
        for i, am in enumerate(meta["attention"])
    }
    predictions = None
    if meta["predictions"] is not None:
        found = {k: _dask(da, root[f"predictions/{k}"]) for k in meta["prediction_arrays"]}
        predictions = Predictions(**meta["predictions"], **found)
    cap = StoredCapture(
        layers=layers,
        lengths=lengths,
        tokens=LazyTokens(root["tokens"]) if meta["tokens"] else None,  # type: ignore[arg-type]
        model_name=meta["model_name"],
        attention=attention,
        predictions=predictions,
        saliency=_dask(da, root["saliency"]) if meta["saliency"] else None,
        loss=meta["loss"],
    )
    cap.path = p
    cap.meta = meta
    cap._root = root
    return cap
