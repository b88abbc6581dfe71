"""The Capture: what the probe recorded, as plain numpy arrays with named axes.

This module imports numpy only. A capture saved on a machine with Keras reopens on one
without it (``Capture.load``), so everything the explorer draws must live in here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._files import json_meta, not_an_npz, npz_path, write_npz

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
    grad_h, grad_c : ndarray or None, float32, (B, T, U)
        With ``gradients=True``: ∂L/∂h_t and ∂L/∂c_t, the total derivative through time and
        through the layers above, per sample, of L = ``Capture.loss`` (each sample's own loss
        as Keras reduces it — e.g. the mean over its steps for a sequence output).
    grad_gates : dict of str to ndarray
        ∂L/∂(pre-activation) of each gate, (B, T, U), keyed like ``gates``.
    grad_weights : dict of str to ndarray
        ∂L/∂ of each entry of ``weights`` (summed over the batch).
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
    grad_h: np.ndarray | None = None
    grad_c: np.ndarray | None = None
    grad_gates: dict[str, np.ndarray] = field(default_factory=dict)
    grad_weights: dict[str, np.ndarray] = field(default_factory=dict)

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
        if self.grad_h is not None:
            out["grad:h"] = self.grad_h
        if self.grad_c is not None:
            out["grad:c"] = self.grad_c
        for g, a in self.grad_gates.items():
            out[f"grad_gate:{g}"] = a
        for w, a in self.grad_weights.items():
            out[f"grad_weight:{w}"] = a
        return out

    def gate_weights(self, gate: str, *, grad: bool = False) -> dict[str, np.ndarray]:
        """One gate's slice of the weights (or of their gradients, ``grad=True``).

        Returns ``kernel`` (D, U), ``recurrent_kernel`` (U, U) and, with a bias, ``bias``
        ((U,), or (2, U) for a GRU with ``reset_after``: input and recurrent bias).
        """
        names = self.gate_names or ("cell",)
        if gate not in names:
            raise KeyError(f"{self.kind} layer {self.name!r} has gates {list(names)}, not {gate!r}")
        k, u = names.index(gate), self.units
        source = self.grad_weights if grad else self.weights
        if grad and not source:
            raise ValueError("no weight gradients captured; pass gradients=True to capture()")
        return {name: a[..., k * u : (k + 1) * u] for name, a in source.items()}

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
            "grad_gates": list(self.grad_gates),
        }

    @classmethod
    def _from_parts(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> LayerCapture:
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
            weights=_prefixed(arrays, "weight:"),
            grad_h=arrays.get("grad:h"),
            grad_c=arrays.get("grad:c"),
            grad_gates={g: arrays[f"grad_gate:{g}"] for g in meta.get("grad_gates", [])},
            grad_weights=_prefixed(arrays, "grad_weight:"),
        )


def _prefixed(arrays: Mapping[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


@dataclass
class AttentionCapture:
    """Attention weights of one attention layer.

    Attributes
    ----------
    name : str
        The attention layer's name.
    kind : str
        ``"Attention"``, ``"AdditiveAttention"``, ``"MultiHeadAttention"`` or the class name of
        a custom layer (see ``lstmviz_widget.probe.attention``).
    scores : ndarray, float32, (B, heads, T_query, T_key)
        Attention weights; each row sums to 1 over the keys. heads = 1 for single-head layers.
    query_source, key_source : str or None
        Name of the layer whose output feeds the query / the key (value when no key is given),
        so views can line the axes up with that layer's timesteps and tokens.
    """

    name: str
    kind: str
    scores: np.ndarray
    query_source: str | None = None
    key_source: str | None = None

    def _meta(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "query_source": self.query_source,
            "key_source": self.key_source,
        }


@dataclass
class Predictions:
    """What the model predicts at each step, and how sure it is.

    Attributes
    ----------
    mode : str
        ``"sequence"`` (the model outputs one prediction per step), ``"prefix"`` (the head
        applied to every h_t of the last recurrent layer: what the model would predict if the
        sequence ended at t) or ``"none"`` (see ``reason``).
    task : str
        ``"classification"`` (softmax), ``"binary"`` (sigmoid), ``"regression"`` or ``""``.
    values : ndarray or None, float32, (B, T, K)
        The model's outputs per step.
    confidence : ndarray or None, float32, (B, T)
        Max softmax probability; for a sigmoid output |p − 0.5|·2; for regression the value.
    predicted : ndarray or None, int, (B, T)
        Predicted class per step (classification and binary).
    mispredicted : ndarray or None, bool, (B, T)
        Where ``predicted`` differs from the labels given as ``y``.
    reason : str
        How the predictions were obtained, or why there are none.
    source_layer : str or None
        The recurrent layer whose states the prefix readout reads.
    """

    mode: str
    task: str = ""
    values: np.ndarray | None = None
    confidence: np.ndarray | None = None
    predicted: np.ndarray | None = None
    mispredicted: np.ndarray | None = None
    reason: str = ""
    source_layer: str | None = None

    _ARRAYS = ("values", "confidence", "predicted", "mispredicted")

    def _meta(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "task": self.task,
            "reason": self.reason,
            "source_layer": self.source_layer,
        }


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
    attention : dict of str to AttentionCapture
        Attention weights per attention layer, keyed by layer name.
    predictions : Predictions or None
        Per-step predictions and confidence.
    saliency : ndarray or None, float32, (B, T)
        With ``gradients=True``: gradient × input of the model input, summed over features.
    loss : float or None
        With ``gradients=True``: the loss L the gradients are of. Per sample, exactly the loss
        Keras reports for that sample alone (the compiled loss's own reduction over the
        non-batch axes, the output mask and sample weights respected); summed over the batch,
        so for one sample it equals ``model.evaluate(x, y)`` (regularisation losses aside).
        With ``loss=k``: the logit of class k summed over steps and samples.
    """

    layers: dict[str, LayerCapture]
    lengths: np.ndarray
    tokens: list[list[str]] | None = None
    model_name: str = ""
    attention: dict[str, AttentionCapture] = field(default_factory=dict)
    predictions: Predictions | None = None
    saliency: np.ndarray | None = None
    loss: float | None = None

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
    def save(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress: bool | None = None,
    ) -> Path:
        """Write the capture to one ``.npz`` file, whole or not at all.

        Parameters
        ----------
        path : path-like
            Destination; ``.npz`` is appended when missing.
        overwrite : bool
            Replace an existing file. Without it an existing file raises ``FileExistsError``.
        progress : bool, optional
            A progress bar when saving takes over a second (default: on, unless turned off
            with ``lstmviz_widget.set_progress(False)`` or ``LSTMVIZ_PROGRESS=0``).
        """
        path = npz_path(path, overwrite=overwrite)
        meta = {
            "format": FORMAT_VERSION,
            "model_name": self.model_name,
            "tokens": self.tokens,
            "layers": [lc._meta() for lc in self],
            "attention": [a._meta() for a in self.attention.values()],
            "predictions": None if self.predictions is None else self.predictions._meta(),
            "loss": self.loss,
        }
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(meta)),
            "lengths": np.asarray(self.lengths, dtype=np.int64),
        }
        for i, lc in enumerate(self):
            for key, arr in lc._arrays().items():
                arrays[f"layer{i}/{key}"] = arr
        for i, att in enumerate(self.attention.values()):
            arrays[f"attention{i}/scores"] = att.scores
        if self.predictions is not None:
            for key in Predictions._ARRAYS:
                value = getattr(self.predictions, key)
                if value is not None:
                    arrays[f"predictions/{key}"] = value
        if self.saliency is not None:
            arrays["saliency"] = self.saliency
        return write_npz(path, arrays, progress=progress)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Capture:
        """Open a store written by ``capture(..., store=path)``, lazily: its arrays are dask
        arrays read when used (see :mod:`lstmviz_widget.store`). Needs zarr and dask (the
        ``[store]`` extra), not Keras."""
        from .store.reader import open_store

        return open_store(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Capture:
        """Read a capture written by :meth:`save`. Needs numpy only.

        A file that is not a capture raises ``ValueError`` saying what it holds instead.
        """
        found = not_an_npz(path)
        if found is not None:
            raise ValueError(f"{path} is not an lstmviz capture: it is {found}. {_SAVED_BY}")
        with np.load(path, allow_pickle=False) as npz:
            meta = json_meta(
                npz, ("format", "layers"), f"{path} is not an lstmviz capture", _SAVED_BY
            )
            if meta["format"] != FORMAT_VERSION:
                raise ValueError(
                    f"{path} holds capture format {meta['format']!r}; this version of "
                    f"lstmviz-widget reads format {FORMAT_VERSION}"
                )
            try:
                return cls._from_npz(npz, meta)
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(
                    f"{path} is an lstmviz capture (format {FORMAT_VERSION}) that cannot be "
                    f"read, damaged or altered since it was saved: {exc}"
                ) from exc

    @classmethod
    def _from_npz(cls, npz: Any, meta: dict[str, Any]) -> Capture:
        layers: dict[str, LayerCapture] = {}
        for i, lm in enumerate(meta["layers"]):
            prefix = f"layer{i}/"
            arrays = {k[len(prefix) :]: npz[k] for k in npz.files if k.startswith(prefix)}
            layers[lm["name"]] = LayerCapture._from_parts(lm, arrays)
        attention = {
            am["name"]: AttentionCapture(scores=npz[f"attention{i}/scores"], **am)
            for i, am in enumerate(meta.get("attention", []))
        }
        predictions = None
        if meta.get("predictions") is not None:
            found = {
                k: npz[f"predictions/{k}"]
                for k in Predictions._ARRAYS
                if f"predictions/{k}" in npz.files
            }
            predictions = Predictions(**meta["predictions"], **found)
        return cls(
            layers=layers,
            lengths=npz["lengths"],
            tokens=meta["tokens"],
            model_name=meta["model_name"],
            attention=attention,
            predictions=predictions,
            saliency=npz["saliency"] if "saliency" in npz.files else None,
            loss=meta.get("loss"),
        )


_SAVED_BY = "Capture.load reads the .npz files that Capture.save writes."
