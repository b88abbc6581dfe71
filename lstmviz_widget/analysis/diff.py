"""Differences between two captures of the same model: what an edited input changed inside.

numpy only. ``diff(a, b)`` gives, per recurrent layer, ``b − a`` of the hidden state, the
cell state and every gate, and where the two runs first part; ``difference_capture`` packs
those differences into a :class:`~lstmviz_widget.Capture` so the explorer draws them with its
usual views (on a diverging, symmetric colour scale).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import Capture, LayerCapture, Predictions

#: |difference| at or below this counts as "no change" for :attr:`LayerDiff.first_changed`.
ATOL = 1e-7


@dataclass
class LayerDiff:
    """``b − a`` for one recurrent layer (one direction of a Bidirectional).

    Attributes
    ----------
    name : str
        The layer's name in both captures.
    direction : str or None
        ``"forward"``/``"backward"`` for a Bidirectional's halves. A backward half reads the
        sequence from the end, so an edit at step t changes it at steps *before* t too.
    h : ndarray, float32, (B, T, U)
        h′ − h.
    c : ndarray or None, float32, (B, T, U)
        c′ − c (LSTM only).
    gates : dict of str to ndarray, float32, (B, T, U)
        Each gate's activation difference.
    """

    name: str
    direction: str | None
    h: np.ndarray
    c: np.ndarray | None = None
    gates: dict[str, np.ndarray] = field(default_factory=dict)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every difference keyed like the explorer's quantities: ``h``, ``c``, ``gate:<g>``."""
        out = {"h": self.h}
        if self.c is not None:
            out["c"] = self.c
        out.update({f"gate:{g}": a for g, a in self.gates.items()})
        return out

    def changed(self, atol: float = ATOL) -> np.ndarray:
        """(B, T) bool: where any unit of any quantity moved by more than ``atol``."""
        out = np.zeros(self.h.shape[:2], bool)
        for a in self.arrays().values():
            out |= np.abs(a).max(axis=-1) > atol
        return out

    def first_changed(self, atol: float = ATOL) -> np.ndarray:
        """(B,) int: the first step where the runs differ, per sample; -1 where they never do."""
        ch = self.changed(atol)
        return np.where(ch.any(axis=1), ch.argmax(axis=1), -1)


def _check_pair(a: Capture, b: Capture) -> None:
    if not isinstance(a, Capture) or not isinstance(b, Capture):
        raise TypeError(
            f"diff(a, b) compares two Captures, got {type(a).__name__} and {type(b).__name__}"
        )
    if a.layer_names != b.layer_names:
        raise ValueError(
            f"the captures hold different layers ({a.layer_names} vs {b.layer_names}); "
            "compare two captures of the same model"
        )
    for la, lb in zip(a, b, strict=True):
        if la.h.shape != lb.h.shape:
            raise ValueError(
                f"layer {la.name!r} has shape {la.h.shape} in one capture and {lb.h.shape} in "
                "the other; compare sequences of the same batch size and length"
            )


def _sub(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # In float64, then float32: the difference of two float32 values is exact in float64, so
    # rounding happens once (identical steps give exactly 0).
    return (np.asarray(y, np.float64) - np.asarray(x, np.float64)).astype(np.float32)


def diff(a: Capture, b: Capture) -> dict[str, LayerDiff]:
    """Per-layer differences ``b − a`` of two captures of the same model and shape.

    Parameters
    ----------
    a, b : Capture
        E.g. the original run and the run on an edited sequence.

    Returns
    -------
    dict of str to LayerDiff
        Keyed by layer name, in graph order.
    """
    _check_pair(a, b)
    out: dict[str, LayerDiff] = {}
    for la, lb in zip(a, b, strict=True):
        c = None if la.c is None or lb.c is None else _sub(la.c, lb.c)
        gates = {g: _sub(la.gates[g], lb.gates[g]) for g in la.gates if g in lb.gates}
        out[la.name] = LayerDiff(la.name, la.direction, _sub(la.h, lb.h), c, gates)
    return out


def difference_capture(a: Capture, b: Capture) -> Capture:
    """A Capture whose states and gates are ``b − a`` (what the explorer's difference mode draws).

    Inputs are ``b − a`` as well (so the edited steps show on the input track); weights are
    ``a``'s; gradients, attention and saliency are left out (a difference of them is not what
    those views mean); predictions carry ``b``'s confidence minus ``a``'s.
    """
    d = diff(a, b)
    layers: dict[str, LayerCapture] = {}
    for la, lb in zip(a, b, strict=True):
        ld = d[la.name]
        layers[la.name] = LayerCapture(
            name=la.name,
            kind=la.kind,
            h=ld.h,
            inputs=_sub(la.inputs, lb.inputs) if la.inputs.shape == lb.inputs.shape else la.inputs,
            fidelity=max(float(la.fidelity), float(lb.fidelity)),
            c=ld.c,
            gates=ld.gates,
            mask=la.mask
            if lb.mask is None
            else (lb.mask if la.mask is None else la.mask | lb.mask),
            direction=la.direction,
            go_backwards=la.go_backwards,
            activation=la.activation,
            recurrent_activation=la.recurrent_activation,
            weights=dict(la.weights),
        )
    predictions = None
    pa, pb = a.predictions, b.predictions
    if (
        pa is not None
        and pb is not None
        and pa.confidence is not None
        and pb.confidence is not None
        and pa.confidence.shape == pb.confidence.shape
    ):
        predictions = Predictions(
            mode=pa.mode,
            task="regression",  # a signed difference, drawn as a value
            confidence=_sub(pa.confidence, pb.confidence),
            reason=f"difference of confidence, edited − original ({pa.reason})".strip(),
            source_layer=pa.source_layer,
        )
    return Capture(
        layers=layers,
        lengths=np.maximum(np.asarray(a.lengths), np.asarray(b.lengths)),
        tokens=_tokens(a.tokens, b.tokens),
        model_name=a.model_name,
        predictions=predictions,
    )


def _tokens(a: list[list[str]] | None, b: list[list[str]] | None) -> list[list[str]] | None:
    """b's labels, with ``old→new`` where a step's label changed."""
    if a is None or b is None:
        return b
    return [
        [y if x == y else f"{x}\u2192{y}" for x, y in zip(ra, rb, strict=False)]
        for ra, rb in zip(a, b, strict=False)
    ]
