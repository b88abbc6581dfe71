"""The Capture: what the probe recorded, as plain numpy arrays with named axes.

This module imports numpy only. A capture saved on a machine with Keras reopens on one
without it (``Capture.load``), so everything the explorer draws must live in here.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1

#: Gate names per cell kind, in Keras's weight order.
GATE_NAMES: dict[str, tuple[str, ...]] = {
    "LSTM": ("input", "forget", "cell", "output"),
    "GRU": ("update", "reset", "candidate"),
    "SimpleRNN": (),
}

#: Axis names of the per-step arrays.
AXES = ("sample", "time", "unit")


@dataclass
class LayerCapture:
    """Everything recorded for one recurrent layer (one direction of a Bidirectional).

    Attributes
    ----------
    name : str
        Stable id: the Keras layer name, with ``/forward`` or ``/backward`` for the two
        directions of a ``Bidirectional`` wrapper.
    kind : str
        ``"LSTM"``, ``"GRU"`` or ``"SimpleRNN"``.
    h : ndarray, float32, (B, T, U)
        Hidden state after each step, in input time order. At masked steps it holds the
        carried-over state (Keras's semantics), whatever the layer emitted there.
    c : ndarray or None, float32, (B, T, U)
        Cell state after each step (LSTM only).
    gates : dict of str to ndarray, float32, (B, T, U)
        Gate activations per step: LSTM ``input, forget, cell, output``; GRU ``update, reset,
        candidate``; none for SimpleRNN. At masked steps they are what the cell computed but
        did not apply.
    inputs : ndarray, float32, (B, T, D)
        The layer's own input sequence.
    mask : ndarray of bool (B, T) or None
        True where a step was processed.
    fidelity : float
        Max abs difference between the replayed hidden sequence and the layer's own output.
    direction : str or None
        ``"forward"``/``"backward"`` for a Bidirectional's halves, else None.
    go_backwards : bool
        Whether the layer reads its input from the end (its arrays are still in input order).
    activation, recurrent_activation : str
        Names of the layer's activation functions.
    weights : dict of str to ndarray
        ``kernel`` (D, G·U), ``recurrent_kernel`` (U, G·U) and, with a bias, ``bias``.
    """

    name: str
    kind: str
    h: np.ndarray
    inputs: np.ndarray
    fidelity: float
    c: np.ndarray | None = None
    gates: dict[str, np.ndarray] = field(default_factory=dict)
    mask: np.ndarray | None = None
    direction: str | None = None
    go_backwards: bool = False
    activation: str = ""
    recurrent_activation: str = ""
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def units(self) -> int:
        """Number of units U."""
        return int(self.h.shape[-1])

    @property
    def gate_names(self) -> tuple[str, ...]:
        """Gate names of this cell kind, in Keras's order."""
        return GATE_NAMES[self.kind]

    def _arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"h": self.h, "inputs": self.inputs}
        if self.c is not None:
            out["c"] = self.c
        if self.mask is not None:
            out["mask"] = self.mask
        for g, a in self.gates.items():
            out[f"gate:{g}"] = a
        for w, a in self.weights.items():
            out[f"weight:{w}"] = a
        return out

    def _meta(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "fidelity": float(self.fidelity),
            "direction": self.direction,
            "go_backwards": bool(self.go_backwards),
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "gates": list(self.gates),
        }

    @classmethod
    def _from_parts(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]):
        return cls(
            name=meta["name"],
            kind=meta["kind"],
            h=arrays["h"],
            inputs=arrays["inputs"],
            fidelity=float(meta["fidelity"]),
            c=arrays.get("c"),
            gates={g: arrays[f"gate:{g}"] for g in meta["gates"]},
            mask=arrays.get("mask"),
            direction=meta["direction"],
            go_backwards=meta["go_backwards"],
            activation=meta["activation"],
            recurrent_activation=meta["recurrent_activation"],
            weights={k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("weight:")},
        )


@dataclass
class Capture:
    """What one probe run recorded for a batch of sequences.

    Index it by layer name (``cap["lstm"]``) to get a :class:`LayerCapture`.

    Attributes
    ----------
    layers : dict of str to LayerCapture
        In graph order.
    tokens : list of list of str, or None
        One label per step for each sample (B lists of T strings).
    lengths : ndarray of int (B,)
        Number of steps that carry data in each sample (the others are padding).
    model_name : str
        Name of the Keras model.
    """

    layers: dict[str, LayerCapture]
    lengths: np.ndarray
    tokens: list[list[str]] | None = None
    model_name: str = ""

    # -- shape ----------------------------------------------------------------
    @property
    def layer_names(self) -> list[str]:
        """Names of the captured layers in graph order."""
        return list(self.layers)

    @property
    def n_samples(self) -> int:
        """Batch size B."""
        return int(self.lengths.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of timesteps T (after padding) of the longest layer.

        Layers fed by different inputs (an encoder and a decoder) keep their own time axis:
        ``cap[name].h.shape[1]``.
        """
        return max(int(lc.h.shape[1]) for lc in self)

    def __getitem__(self, name: str) -> LayerCapture:
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(
                f"no captured layer named {name!r}; captured layers are {self.layer_names}"
            ) from None

    def __iter__(self) -> Iterator[LayerCapture]:
        return iter(self.layers.values())

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        parts = ", ".join(f"{lc.name}:{lc.kind}[{lc.units}]" for lc in self)
        return f"Capture(model={self.model_name!r}, B={self.n_samples}, T={self.n_steps}, {parts})"

    # -- persistence ----------------------------------------------------------
    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the capture to one ``.npz`` file, whole or not at all.

        Parameters
        ----------
        path : path-like
            Destination; ``.npz`` is appended when missing.
        overwrite : bool
            Replace an existing file. Without it an existing file raises ``FileExistsError``.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        meta = {
            "format": FORMAT_VERSION,
            "model_name": self.model_name,
            "tokens": self.tokens,
            "layers": [lc._meta() for lc in self],
        }
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(meta)),
            "lengths": np.asarray(self.lengths, dtype=np.int64),
        }
        for i, lc in enumerate(self):
            for key, arr in lc._arrays().items():
                arrays[f"layer{i}/{key}"] = arr
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Capture:
        """Read a capture written by :meth:`save`. Needs numpy only."""
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(
                    f"{path} holds capture format {meta.get('format')!r}; this version of "
                    f"lstmviz-widget reads format {FORMAT_VERSION}"
                )
            layers: dict[str, LayerCapture] = {}
            for i, lm in enumerate(meta["layers"]):
                prefix = f"layer{i}/"
                arrays = {k[len(prefix) :]: npz[k] for k in npz.files if k.startswith(prefix)}
                layers[lm["name"]] = LayerCapture._from_parts(lm, arrays)
            return cls(
                layers=layers,
                lengths=npz["lengths"],
                tokens=meta["tokens"],
                model_name=meta["model_name"],
            )
