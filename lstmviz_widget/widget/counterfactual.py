"""Counterfactual edits of the explorer's input: change one step, re-capture, compare.

The explorer keeps the model and the sequence it was built from; each :class:`Edit` changes
one step of one sample (a numeric value, a token, or a mask), and the edited sequence — the
original with every edit applied in order — is captured again with the public
:func:`lstmviz_widget.capture`. The explorer's ``mode`` trait chooses what the views draw:
the original run, the edited run, or their difference (``analysis.diff``). Keras is only
reached through ``capture``; this module imports numpy only.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis.diff import difference_capture
from ..data import Capture

MODES = ("original", "edited", "difference")

#: Custom-message types between the edit view (js/views/edit.ts) and Python.
REQUEST_TYPE = "lstmviz-edit"
ERROR_TYPE = "lstmviz-edit-error"

#: Most vocabulary entries sent to the browser for the type-ahead.
MAX_VOCAB = 50_000

NO_MODEL = (
    "this explorer was built from a Capture, so there is no model to run the edited sequence "
    "through; build it as LSTMExplorer(model, seq) to edit inputs (or compare two captures "
    "with lstmviz_widget.analysis.diff)"
)

BACKWARD_NOTE = (
    "backward direction: it reads the sequence from the end, so it changes at steps before "
    "the edit as well"
)


ABOVE_BACKWARD_NOTE = (
    "changes before the edit: its input comes (in part) from a backward layer, which sees "
    "the edit from the end"
)


@dataclass(frozen=True)
class Edit:
    """One change to the input.

    Attributes
    ----------
    kind : str
        ``"value"`` (numeric features set), ``"token"`` (another token id), ``"mask"`` (the
        step skipped: its state is carried over, Keras's masking) or ``"sequence"`` (a whole
        second sequence, from :meth:`LSTMExplorer.compare`).
    t : int
        The step edited (-1 for ``"sequence"``).
    sample : int
        The sequence of the batch edited.
    value : Any
        The new features ``(D,)``, the new token id, or the other sequence.
    label : str
        What changed, in words (shown in the widget).
    """

    kind: str
    t: int
    sample: int
    value: Any
    label: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "t": self.t, "sample": self.sample, "label": self.label}


def _vocab_from(tokens: Any, vocab: Any, b: int, t: int) -> dict[int, str] | None:
    """id → label from ``vocab=`` or from ``tokens=`` when that is a vocabulary."""
    source = vocab
    if source is None and (
        isinstance(tokens, Mapping)
        or (
            isinstance(tokens, (list, tuple))
            and tokens
            and all(isinstance(x, str) for x in tokens)
            and not (b == 1 and len(tokens) == t)
        )
    ):
        source = tokens
    if source is None:
        return None
    if isinstance(source, Mapping):
        try:
            return {int(k): str(v) for k, v in source.items()}
        except (TypeError, ValueError):
            raise TypeError(
                "vocab as a dict maps token ids (int) to labels (str), e.g. {0: '<pad>', 1: 'the'}"
            ) from None
    if isinstance(source, Sequence) and not isinstance(source, str):
        return {i: str(v) for i, v in enumerate(source)}
    raise TypeError(
        f"vocab must be a list of labels (index = token id) or a dict id -> label, "
        f"got {type(source).__name__}"
    )


class Counterfactual:
    """The edit state of one explorer: the original inputs, the edits, the edited capture."""

    def __init__(
        self,
        baseline: Capture,
        model: Any = None,
        seq: Any = None,
        mask: Any = None,
        tokens: Any = None,
        vocab: Any = None,
    ) -> None:
        self.baseline = baseline
        self.model = model
        self.edits: list[Edit] = []
        self._runs: list[Capture] = []  # the capture after each edit: undo is instant
        self.edited: Capture | None = None
        self._difference: Capture | None = None
        self._first: tuple[Capture, dict[str, list[int]]] | None = None  # per edited run
        self._payloads: dict[int, tuple[Capture, dict[str, Any]]] = {}
        b, t = baseline.n_samples, baseline.n_steps
        self.vocab = _vocab_from(tokens, vocab, b, t)
        self._ids = {label: i for i, label in self.vocab.items()} if self.vocab else {}
        self.reason = ""
        self.seq: np.ndarray | None = None
        self.mask: np.ndarray | None = None
        self.token_input = False
        if model is None:
            self.reason = NO_MODEL
            return
        if isinstance(seq, (list, tuple)) and seq and isinstance(seq[0], np.ndarray):
            shapes = {np.shape(s) for s in seq}
            if len(shapes) > 1:
                self.reason = (
                    "edit() needs one rectangular input array; this explorer got a list of "
                    "sequences of different lengths or one array per model input. Pad the "
                    "sequences into one array and pass mask= to edit them."
                )
                return
        arr = np.asarray(seq)
        self.token_input = arr.dtype.kind in "iu" and arr.ndim in (1, 2)
        if arr.dtype.kind not in "biuf":
            self.reason = f"edit() needs a numeric input array, got dtype {arr.dtype}"
            return
        want = 2 if self.token_input else 3
        if arr.ndim == want - 1:
            arr = arr[None]
        if arr.ndim != want or arr.shape[:2] != (b, t):
            self.reason = (
                f"edit() needs the input as one array of shape ({b}, {t}"
                f"{'' if self.token_input else ', D'}); got {np.shape(seq)}"
            )
            return
        self.seq = arr.copy()
        self.mask = None if mask is None else np.broadcast_to(np.asarray(mask, bool), (b, t)).copy()

    # -- state -----------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self.seq is not None

    def require(self) -> None:
        if not self.editable:
            raise RuntimeError(f"cannot edit: {self.reason}")

    def difference(self) -> Capture:
        if self.edited is None:
            raise RuntimeError("no edits yet: call explorer.edit(t, ...) first")
        if self._difference is None:
            self._difference = difference_capture(self.baseline, self.edited)
        return self._difference

    # -- building edits ----------------------------------------------------------------
    def make_edit(
        self, t: Any, value: Any = None, *, token: Any = None, mask: Any = False, sample: Any = 0
    ) -> Edit:
        """Check one edit request; raise one clear error (and change nothing) when it is bad."""
        self.require()
        assert self.seq is not None
        if isinstance(t, bool) or not isinstance(t, numbers.Integral):
            raise TypeError(f"edit(t, ...): t is a step index (int), got {type(t).__name__}")
        if isinstance(sample, bool) or not isinstance(sample, numbers.Integral):
            raise TypeError(f"sample must be an int, got {type(sample).__name__}")
        b = self.seq.shape[0]
        sample, t = int(sample), int(t)
        if not 0 <= sample < b:
            raise ValueError(f"sample must be in [0, {b - 1}], got {sample}")
        length = int(self.baseline.lengths[sample])
        if not 0 <= t < length:
            raise ValueError(f"step t must be in [0, {length - 1}] for sample {sample}, got {t}")
        given = [name for name, v in (("value", value), ("token", token)) if v is not None]
        if mask is not True and mask is not False:
            raise TypeError(f"mask must be True or False, got {mask!r}")
        if mask:
            given.append("mask=True")
        if len(given) != 1:
            what = "nothing" if not given else " and ".join(given)
            raise TypeError(
                f"edit(t, ...) takes exactly one of: a value, token=..., or mask=True; got {what}"
            )
        where = f"step {t}" + (f" of sample {sample}" if b > 1 else "")
        if mask:
            return Edit("mask", t, sample, None, f"{where}: masked (state carried over)")
        if self.token_input:
            tid = self._token_id(token if token is not None else value)
            old = int(self.seq[sample, t])
            return Edit(
                "token",
                t,
                sample,
                tid,
                f"{where}: {self._label(old)!r} \u2192 {self._label(tid)!r}",
            )
        if token is not None:
            raise TypeError(
                "token= is for models whose input is token ids; this model takes numeric "
                f"features ({self.seq.shape[-1]} per step): pass edit(t, value)"
            )
        vec = self._features(value)
        shown = ", ".join(f"{v:g}" for v in vec[:4]) + (", …" if vec.size > 4 else "")
        return Edit("value", t, sample, vec, f"{where}: features = [{shown}]")

    def make_sequence(self, other: Any) -> Edit:
        self.require()
        assert self.seq is not None
        arr = np.asarray(other)
        if arr.ndim == self.seq.ndim - 1:
            arr = arr[None]
        if arr.shape != self.seq.shape:
            raise ValueError(
                f"compare(other_seq) needs a sequence of the same shape as the original "
                f"{self.seq.shape[1:] if self.seq.shape[0] == 1 else self.seq.shape}, got "
                f"{np.shape(other)}"
            )
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"compare(other_seq) needs numbers, got dtype {arr.dtype}")
        if self.token_input and arr.dtype.kind not in "iu":
            raise TypeError("this model takes token ids: compare() needs an integer sequence")
        if not self.token_input and not np.isfinite(arr).all():
            raise ValueError("compare(other_seq) got NaN or infinite values")
        return Edit("sequence", -1, 0, arr.astype(self.seq.dtype), "a second sequence (compare)")

    def _label(self, tid: int) -> str:
        return self.vocab.get(tid, str(tid)) if self.vocab else str(tid)

    def _token_id(self, token: Any) -> int:
        if isinstance(token, str):
            if token in self._ids:
                return self._ids[token]
            if not self.vocab:
                raise ValueError(
                    f"token {token!r} given by label but the explorer has no vocabulary: pass "
                    "vocab= (list of labels or dict id -> label) or a token id (int)"
                )
            close = difflib.get_close_matches(token, list(self._ids), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"token {token!r} is not in the vocabulary{hint}")
        if isinstance(token, bool) or not isinstance(token, numbers.Integral):
            raise TypeError(
                "this model takes token ids: edit(t, token=...) takes a label (str) or an id "
                f"(int), got {type(token).__name__}"
            )
        tid = int(token)
        top = self._n_tokens()
        if tid < 0 or (top is not None and tid >= top):
            raise ValueError(f"token id must be in [0, {top - 1 if top else '…'}], got {tid}")
        return tid

    def _n_tokens(self) -> int | None:
        """How many token ids the model takes: its first Embedding's ``input_dim`` (read off
        the layer object, no Keras import), else the vocabulary's size, else unknown."""
        for layer in getattr(self.model, "layers", None) or []:
            n = getattr(layer, "input_dim", None)
            if type(layer).__name__ == "Embedding" and isinstance(n, int):
                return n
        return max(self.vocab) + 1 if self.vocab else None

    def _features(self, value: Any) -> np.ndarray:
        assert self.seq is not None
        d = self.seq.shape[-1]
        bad = TypeError(
            f"edit(t, value): value is a number or {d} numbers (one per feature), got "
            f"{type(value).__name__}"
        )
        if isinstance(value, (str, bytes, bool)):
            raise bad
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise bad from None
        if arr.ndim == 0:
            arr = np.full(d, float(arr))
        if arr.shape != (d,):
            raise ValueError(f"value must be a number or {d} numbers, got shape {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("value must be finite (no NaN or inf)")
        return arr

    # -- applying ----------------------------------------------------------------------
    def inputs_for(self, edits: list[Edit]) -> tuple[np.ndarray, np.ndarray | None, Any]:
        """The sequence, mask and per-step labels with ``edits`` applied in order."""
        assert self.seq is not None
        seq = self.seq.copy()
        mask = None if self.mask is None else self.mask.copy()
        tokens = None if self.baseline.tokens is None else [list(r) for r in self.baseline.tokens]
        for e in edits:
            if e.kind == "sequence":
                seq = np.array(e.value, copy=True)
                if tokens is not None and self.vocab and self.token_input:
                    tokens = [[self._label(int(i)) for i in row] for row in seq]
                continue
            if e.kind == "mask":
                if mask is None:
                    mask = np.ones(seq.shape[:2], bool)
                mask[e.sample, e.t] = False
                continue
            seq[e.sample, e.t] = e.value
            if e.kind == "token" and tokens is not None:
                tokens[e.sample][e.t] = self._label(int(e.value))
        return seq, mask, tokens

    def run(self, edits: list[Edit]) -> Capture:
        """Capture the edited sequence (the public ``capture``); nothing is changed here."""
        from ..probe.capture import capture

        seq, mask, tokens = self.inputs_for(edits)
        return capture(self.model, seq, mask=mask, tokens=tokens)

    def push(self, edit: Edit) -> Capture:
        """Apply one more edit; on any error the state is as before."""
        edits = [*self.edits, edit]
        cap = self.run(edits)
        self.edits, self._runs = edits, [*self._runs, cap]
        self.edited, self._difference = cap, None
        self._forget()
        return cap

    def undo(self) -> Edit | None:
        if not self.edits:
            return None
        last = self.edits[-1]
        self.edits, self._runs = self.edits[:-1], self._runs[:-1]
        self.edited, self._difference = (self._runs[-1] if self._runs else None), None
        self._forget()
        return last

    def reset(self) -> None:
        self.edits, self._runs, self.edited, self._difference = [], [], None, None
        self._forget()

    # -- payload -----------------------------------------------------------------------
    def payload(
        self,
        mode: str,
        build: Callable[[Capture], dict[str, Any]],
        encode: Callable[..., dict[str, Any]],
        transport: str,
    ) -> dict[str, Any]:
        """``_data`` (without ``counterfactual``) for ``mode``, built once per run: switching
        modes or undoing re-sends what was built before instead of computing it again."""
        cap = self.shown(mode if self.edited is not None else "original")
        key = id(cap)
        if key not in self._payloads or self._payloads[key][0] is not cap:
            if mode == "difference" and self.edited is not None:
                edited = self.payload("edited", build, encode, transport)
                built = difference_payload(edited, cap, encode, transport)
            else:
                built = build(cap)
            self._payloads[key] = (cap, built)
        return self._payloads[key][1]

    def seed(self, payload: dict[str, Any]) -> None:
        """The original run's payload, as the explorer built it first."""
        self._payloads[id(self.baseline)] = (self.baseline, payload)

    def _forget(self) -> None:
        """Drop payloads of runs that are gone (after undo / reset / a new edit)."""
        alive = {id(c) for c in (self.baseline, *self._runs)}
        if self._difference is not None:
            alive.add(id(self._difference))
        self._payloads = {k: v for k, v in self._payloads.items() if k in alive}

    def shown(self, mode: str) -> Capture:
        if mode == "original" or self.edited is None:
            return self.baseline
        if mode == "edited":
            return self.edited
        return self.difference()

    def _predictions(self, encode: Callable[..., dict[str, Any]]) -> dict[str, Any] | None:
        """Both runs' per-step predictions (the edit view reads the cursor's before → after)."""
        pa = self.baseline.predictions
        pb = None if self.edited is None else self.edited.predictions
        if pa is None or pb is None or pa.confidence is None or pb.confidence is None:
            return None
        t = self.baseline.n_steps

        def one(p: Any) -> dict[str, Any]:
            predicted = None
            if p.predicted is not None:
                predicted = encode(_pad(np.asarray(p.predicted, np.int32), t), "int32")
            return {"confidence": encode(_pad(p.confidence, t)), "predicted": predicted}

        return {"task": pa.task, "mode": pa.mode, "original": one(pa), "edited": one(pb)}

    def info(
        self, mode: str, sample: int, encode: Callable[..., dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The ``counterfactual`` entry of ``_data`` (docs/widget-contract.md)."""
        vocab = None
        if self.vocab:
            items = sorted(self.vocab.items())[:MAX_VOCAB]
            vocab = {"ids": [i for i, _ in items], "labels": [s for _, s in items]}
        notes = {
            lc.name: BACKWARD_NOTE
            for lc in self.baseline
            if lc.direction == "backward" or lc.go_backwards
        }
        first: dict[str, list[int]] = {}
        if self.edited is not None:
            from ..analysis.diff import diff

            if self._first is None or self._first[0] is not self.edited:
                found = {
                    name: [int(v) for v in d.first_changed()]
                    for name, d in diff(self.baseline, self.edited).items()
                }
                self._first = (self.edited, found)
            first = self._first[1]
            # The earliest edited step per sample; a layer that changed before it reads a
            # backward layer's output (a layer above a Bidirectional): say so.
            earliest: dict[int, int] = {}
            for e in self.edits:
                if e.kind != "sequence":
                    earliest[e.sample] = min(earliest.get(e.sample, e.t), e.t)
            for name, steps in first.items():
                if name in notes:
                    continue
                if any(0 <= steps[b] < t for b, t in earliest.items()):
                    notes[name] = ABOVE_BACKWARD_NOTE
        return {
            "editable": self.editable,
            "reason": self.reason,
            "mode": mode if self.edited is not None else "original",
            "difference": mode == "difference" and self.edited is not None,
            "input": "tokens" if self.token_input else "numeric",
            "features": 0 if self.seq is None or self.token_input else int(self.seq.shape[-1]),
            "edits": [e.to_json() for e in self.edits],
            "vocab": vocab,
            "notes": notes,
            "first_changed": first,
            "predictions": None if encode is None else self._predictions(encode),
            "sample": int(sample),
        }


def _pad(a: np.ndarray, t: int) -> np.ndarray:
    """Pad the time axis to ``t`` steps (as the payload pads a decoder shorter than its encoder)."""
    if a.shape[1] == t:
        return a
    out = np.zeros((a.shape[0], t, *a.shape[2:]), a.dtype if a.dtype != bool else np.float32)
    out[:, : a.shape[1]] = a
    return out


def difference_payload(
    edited: dict[str, Any], dcap: Capture, encode: Callable[..., dict[str, Any]], transport: str
) -> dict[str, Any]:
    """The difference mode's ``_data``: the edited run's payload with its states, gates, input
    track and confidence replaced by edited − original (``dcap``), and what has no meaning for
    a difference left out (health findings, PCA, gradients, saliency, attention). Built from
    the edited payload, so nothing but the differences is computed again."""
    t = int(edited["n_steps"])
    layers = []
    for lay, lc in zip(edited["layers"], dcap, strict=True):
        arrays = {"h": encode(_pad(lc.h, t), transport)}
        if lc.c is not None:
            arrays["c"] = encode(_pad(lc.c, t), transport)
        for g, a in lc.gates.items():
            arrays[f"gate:{g}"] = encode(_pad(a, t), transport)
        layers.append(
            {
                **lay,
                "arrays": arrays,
                "health": None,
                "pca": None,
                "grad_norms": None,
                "weight_grads": None,
            }
        )
    out = {**edited, "layers": layers, "saliency": None, "attention": [], "loss": None}
    out["tokens"] = dcap.tokens
    if edited.get("input") is not None:
        first = next(iter(dcap))
        shown = edited["input"]["values"]["shape"][-1]
        out["input"] = {
            **edited["input"],
            "label": f"{edited['input']['label']}, edited − original",
            "values": encode(_pad(np.asarray(first.inputs[..., :shown], np.float32), t)),
        }
    p = dcap.predictions
    if edited.get("predictions") is not None and p is not None and p.confidence is not None:
        out["predictions"] = {
            **edited["predictions"],
            "task": p.task,
            "reason": p.reason,
            "confidence": encode(_pad(p.confidence, t)),
            "predicted": None,
            "mispredicted": None,
        }
    else:
        out["predictions"] = None
    return out
