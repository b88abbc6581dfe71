"""Captures appended batch by batch to a zarr (v3) store, written whole or not at all.

Layout (one zarr group; ``:`` in a LayerCapture key becomes ``/``)::

    lengths                 (B,) int64
    tokens                  (B, T) str           when tokens were given
    saliency                (B, T) float32       with gradients
    layers/<i>/h, c, inputs, mask, gate/<g>, grad/h, grad/c, grad_gate/<g>   (B, T, ...)
    layers/<i>/weight/<w>, grad_weight/<w>      (summed over every batch)
    attention/<i>/scores    (B, heads, Tq, Tk)
    predictions/values, confidence, predicted, mispredicted

Per-step arrays are chunked along samples and time (whole units per chunk) and compressed
(Blosc LZ4 level 1, byte shuffle). The group's ``lstmviz`` attribute holds the metadata (model
and layer description, shapes, loss) and ``complete: true``; it is written last, into a temporary
directory beside the target that is then renamed into place. An interrupted capture removes the
temporary directory; one killed outright leaves a hidden ``.<name>.<random>.tmp`` without the
marker, which :func:`~.reader.open_store` refuses as incomplete.

Batches may differ in length: arrays grow along time, and when the capture ends, samples of
shorter batches are padded as ``capture`` pads a ragged batch (state carried over on forward
layers, initial state on backward ones, the last prediction carried, zeros and False
elsewhere), so the store equals the in-memory capture of the same data.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data import FORMAT_VERSION, Capture, Predictions
from . import require

#: Store format, written in the metadata and checked on open.
STORE_FORMAT = 1
#: Target bytes of one chunk of a per-step array.
CHUNK_BYTES = 4 << 20
#: Samples per chunk at most (the explorer reads whole chunks for the sample on screen).
CHUNK_SAMPLES = 16

PER_SAMPLE_PREFIXES = ("gate:", "grad_gate:")
PER_SAMPLE_KEYS = ("h", "c", "inputs", "mask", "grad:h", "grad:c")


def store_key(key: str) -> str:
    """A LayerCapture array key as a zarr path (``gate:input`` → ``gate/input``)."""
    return key.replace(":", "/")


def _per_sample(key: str) -> bool:
    return key in PER_SAMPLE_KEYS or key.startswith(PER_SAMPLE_PREFIXES)


def store_path(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """The target directory; refuses an existing one unless ``overwrite`` (as ``save`` does)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a store directory; remove it first")
    return path


def model_description(model: Any) -> dict[str, Any]:
    """Model name, class, parameter count and its layers (name, class, units), read from
    plain attributes."""
    layers = []
    for layer in getattr(model, "layers", []) or []:
        entry: dict[str, Any] = {"name": str(layer.name), "class": type(layer).__name__}
        cell = getattr(layer, "cell", None) or getattr(getattr(layer, "layer", None), "cell", None)
        units = getattr(cell, "units", None) if cell is not None else getattr(layer, "units", None)
        if isinstance(units, (int, np.integer)):
            entry["units"] = int(units)
        layers.append(entry)
    try:
        params: int | None = int(model.count_params())
    except Exception:
        params = None
    return {
        "name": str(getattr(model, "name", "")),
        "class": type(model).__name__,
        "params": params,
        "layers": layers,
    }


@dataclass
class _Written:
    """One appended batch: its samples and per-array time lengths (for the final padding)."""

    b0: int
    b1: int
    steps: dict[str, int]
    lengths: np.ndarray


@dataclass
class _Layer:
    name: str
    meta: dict[str, Any]
    keys: list[str]
    model_mask: bool = False
    fidelity: float = 0.0
    grad_weights: dict[str, np.ndarray] = field(default_factory=dict)


class StoreWriter:
    """Appends Captures to a new zarr group; :meth:`finish` marks it complete.

    Parameters
    ----------
    target : Path or None
        The store directory to create (written in a temporary directory beside it and renamed
        at :meth:`finish`), or None for an in-memory zarr store (``capture`` of a generator
        without ``store=``).
    overwrite : bool
        Replace an existing store at :meth:`finish`.
    pad_token : str
        Label of padded steps (the vocabulary's label of id 0 when tokens are a vocabulary).
    """

    def __init__(self, target: Path | None, *, overwrite: bool = False, pad_token: str = ""):
        zarr, _ = require()
        self._zarr = zarr
        self.target = target
        self.overwrite = overwrite
        self.pad_token = pad_token
        self.tmp: Path | None = None
        if target is None:
            self.zstore: Any = zarr.storage.MemoryStore()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            )
            self.zstore = zarr.storage.LocalStore(str(self.tmp))
        self.root = zarr.open_group(self.zstore, mode="w")
        self.arrays: dict[str, Any] = {}
        self.layers: list[_Layer] = []
        self.written: list[_Written] = []
        self.n = 0
        self.loss: float | None = None
        self.first: Capture | None = None
        self.attention_meta: list[dict[str, Any]] = []
        self.predictions_meta: dict[str, Any] | None = None
        self.has_tokens = False
        self.done = False

    # -- context: an exception removes the temporary directory ---------------------------------
    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None or not self.done:
            self.discard()

    def discard(self) -> None:
        """Remove what was written (an interrupted or failed capture)."""
        if self.tmp is not None and self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- arrays -----------------------------------------------------------------------------
    def _create(self, name: str, value: np.ndarray, fill: Any) -> Any:
        value = np.asarray(value)
        shape = value.shape
        cs = (
            min(shape[0], CHUNK_SAMPLES)
            if shape[0] % min(shape[0], CHUNK_SAMPLES) == 0
            else shape[0]
        )
        chunks = [cs, *shape[1:]]
        if value.ndim >= 2:
            row = max(1, int(np.prod(shape[2:], dtype=np.int64)) * value.dtype.itemsize * cs)
            chunks[1] = int(max(1, min(shape[1], CHUNK_BYTES // row)))
        dtype: Any = str if value.dtype.kind in "UOT" else value.dtype
        codec = self._zarr.codecs.BloscCodec(cname="lz4", clevel=1, shuffle="shuffle")
        arr = self.root.create_array(
            name,
            shape=(0, *shape[1:]),
            chunks=tuple(chunks),
            dtype=dtype,
            fill_value=fill,
            # an in-memory store is read back at once: compressing it would be wasted work
            compressors=codec if dtype is not str and self.target is not None else None,
        )
        self.arrays[name] = arr
        return arr

    def _put(self, name: str, value: np.ndarray, fill: Any, steps: dict[str, int]) -> None:
        value = np.asarray(value)
        arr = self.arrays.get(name)
        if arr is None:
            arr = self._create(name, value, fill)
        if value.ndim != len(arr.shape) or (value.ndim >= 3 and value.shape[-1] != arr.shape[-1]):
            raise ValueError(
                f"batch {len(self.written)}: {name} has shape {value.shape[1:]} per sample where "
                f"earlier batches had {tuple(arr.shape[1:])}; every batch must have the same "
                "features (only the number of steps may differ)"
            )
        b0, b1 = self.n, self.n + value.shape[0]
        new = (b1, *(max(a, v) for a, v in zip(arr.shape[1:], value.shape[1:], strict=True)))
        if tuple(new) != tuple(arr.shape):
            arr.resize(new)
        where = (slice(b0, b1), *(slice(0, v) for v in value.shape[1:]))
        arr[where] = value
        if value.ndim >= 2:
            steps[name] = int(value.shape[1])

    def append(self, cap: Capture) -> None:
        """Write one batch's capture after the ones before."""
        if self.first is None:
            self._start(cap)
        elif cap.layer_names != [lay.name for lay in self.layers]:
            raise ValueError(
                f"batch {len(self.written)} captured layers {cap.layer_names}, earlier batches "
                f"{[lay.name for lay in self.layers]}"
            )
        steps: dict[str, int] = {}
        self._put("lengths", np.asarray(cap.lengths, np.int64), 0, steps)
        for i, (lay, lc) in enumerate(zip(self.layers, cap, strict=True)):
            arrays = lc._arrays()
            if lc.mask is not None:
                lay.model_mask = True
            else:
                arrays["mask"] = np.ones(lc.h.shape[:2], bool)
            for key in lay.keys:
                if key not in arrays:
                    raise ValueError(f"batch {len(self.written)}: layer {lc.name!r} lacks {key}")
                fill: Any = False if key == "mask" else 0.0
                self._put(f"layers/{i}/{store_key(key)}", arrays[key], fill, steps)
            lay.fidelity = max(lay.fidelity, float(lc.fidelity))
            for w, g in lc.grad_weights.items():
                lay.grad_weights[w] = g if w not in lay.grad_weights else lay.grad_weights[w] + g
        if cap.tokens is not None:
            self._put(
                "tokens", np.array(cap.tokens, dtype=object).astype(str), self.pad_token, steps
            )
        if cap.saliency is not None:
            self._put("saliency", cap.saliency, 0.0, steps)
        for i, att in enumerate(cap.attention.values()):
            self._put(f"attention/{i}/scores", att.scores, 0.0, steps)
        p = cap.predictions
        if p is not None:
            for key in Predictions._ARRAYS:
                value = getattr(p, key)
                if value is not None:
                    self._put(
                        f"predictions/{key}", value, False if key == "mispredicted" else 0, steps
                    )
        if cap.loss is not None:
            self.loss = (self.loss or 0.0) + float(cap.loss)
        self.written.append(
            _Written(self.n, self.n + cap.n_samples, steps, np.asarray(cap.lengths))
        )
        self.n += cap.n_samples

    def _start(self, cap: Capture) -> None:
        self.first = cap
        for i, lc in enumerate(cap):
            keys = [k for k in lc._arrays() if _per_sample(k)]
            if "mask" not in keys:
                keys.append("mask")
            self.layers.append(_Layer(lc.name, lc._meta(), keys))
            for w, a in lc.weights.items():
                self.root.create_array(
                    f"layers/{i}/weight/{w}", shape=a.shape, dtype=a.dtype, fill_value=0
                )[...] = a
        self.attention_meta = [a._meta() for a in cap.attention.values()]
        self.predictions_meta = None if cap.predictions is None else cap.predictions._meta()
        self.has_tokens = cap.tokens is not None

    # -- the end ----------------------------------------------------------------------------
    def _carry(self, name: str, backwards: bool = False) -> None:
        """Pad samples of shorter batches by carrying their last step to the final length."""
        arr = self.arrays.get(name)
        if arr is None:
            return
        t = arr.shape[1]
        step = arr.chunks[1]
        for w in self.written:
            tb = w.steps.get(name, t)
            if tb >= t:
                continue
            last = np.asarray(arr[w.b0 : w.b1, tb - 1])
            if backwards:  # on a backward layer padding holds the initial state (zero)
                last = last.copy()
                last[w.lengths >= tb] = 0
            for s in range(tb, t, step):
                e = min(s + step, t)
                arr[w.b0 : w.b1, s:e] = np.broadcast_to(
                    last[:, None], (last.shape[0], e - s, *last.shape[1:])
                )

    def finish(self, model: Any = None) -> None:
        """Pad, write the metadata with ``complete: true`` and rename the store into place."""
        if self.first is None:
            raise ValueError("the data yielded no batch; nothing to capture")
        for i, lay in enumerate(self.layers):
            for key in ("h", "c"):
                self._carry(f"layers/{i}/{key}", backwards=bool(lay.meta["go_backwards"]))
            for w, g in lay.grad_weights.items():
                self.root.create_array(
                    f"layers/{i}/grad_weight/{w}", shape=g.shape, dtype=g.dtype, fill_value=0
                )[...] = g
        for key in ("values", "confidence", "predicted"):
            self._carry(f"predictions/{key}")
        first = self.first
        layers_meta = []
        for i, lay in enumerate(self.layers):
            meta = dict(lay.meta)
            meta["fidelity"] = lay.fidelity
            steps = int(self.arrays[f"layers/{i}/h"].shape[1])
            grew = any(w.steps.get(f"layers/{i}/h", steps) < steps for w in self.written)
            # as in memory: a mask when some batch had one (ragged or the model's) or was padded
            meta["has_mask"] = lay.model_mask or grew
            meta["arrays"] = lay.keys
            meta["steps"] = int(self.arrays[f"layers/{i}/h"].shape[1])
            meta["units"] = int(self.arrays[f"layers/{i}/h"].shape[2])
            meta["grad_weights"] = list(lay.grad_weights)
            meta["weights"] = list(first.layers[lay.name].weights)
            layers_meta.append(meta)
        attrs = {
            "format": STORE_FORMAT,
            "capture_format": FORMAT_VERSION,
            "model_name": first.model_name,
            "model": model_description(model) if model is not None else None,
            "n_samples": self.n,
            "n_batches": len(self.written),
            "layers": layers_meta,
            "attention": self.attention_meta,
            "predictions": self.predictions_meta,
            "prediction_arrays": [
                k for k in Predictions._ARRAYS if f"predictions/{k}" in self.arrays
            ],
            "tokens": self.has_tokens,
            "saliency": "saliency" in self.arrays,
            "loss": self.loss,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "complete": True,
        }
        self.root.attrs["lstmviz"] = attrs  # the completion marker: written last
        if self.target is not None and self.tmp is not None:
            trash = None
            if self.target.exists():
                if not self.overwrite:
                    raise FileExistsError(
                        f"{self.target} exists; pass overwrite=True to replace it"
                    )
                trash = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
                os.replace(self.target, trash)
            os.replace(self.tmp, self.target)
            self.tmp = None
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)
        self.done = True
