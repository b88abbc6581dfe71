"""One probe session per model: what the probe found and compiled for it, held weakly.

The session keeps the model's layer tree (``probe.tree``), its recorded forward passes
(``probe.record``, one per kind of call: with or without a user mask, per set of non-tensor
call arguments) and its gradient passes (per loss). It is looked up in a
``WeakKeyDictionary`` keyed on the model and holds the model itself only weakly, so a model
that goes away takes its session (and the compiled functions) with it.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import numpy as np

from .record import Pass, Recorder, restore_states, stateful_states
from .tree import Tree, check_model, discover

_SESSIONS: weakref.WeakKeyDictionary[Any, ProbeSession] = weakref.WeakKeyDictionary()


def _key(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


class ProbeSession:
    def __init__(self, model: Any) -> None:
        self._model = weakref.ref(model)
        self.tree: Tree = discover(model)
        self._recorders: dict[Any, Recorder] = {}
        self.gradients: dict[Any, Any] = {}  # probe.gradients passes, keyed by the caller

    @property
    def model(self) -> Any:
        model = self._model()
        if model is None:
            raise RuntimeError("the model of this probe session no longer exists")
        return model

    def graph(self) -> Any | None:
        """The model's Functional graph (Sequential/Functional), else None (subclassed)."""
        model = self.model
        if isinstance(model, keras.Sequential):
            return getattr(model, "_functional", None)
        if isinstance(model, keras.src.models.functional.Functional):
            return model
        return None

    def input_specs(self, seq: Any) -> tuple[list[tuple[int | None, ...]], list[str]]:
        """The model inputs' shapes and dtypes; for a subclassed model, read off ``seq``."""
        graph = self.graph()
        if graph is not None:
            return [tuple(t.shape) for t in graph.inputs], [str(t.dtype) for t in graph.inputs]
        first = seq
        if isinstance(seq, (list, tuple)) and seq and np.ndim(seq[0]) >= 1:
            first = seq[0]
        kind = np.asarray(first).dtype.kind
        if kind in "iu":
            return [(None, None)], ["int32"]
        d = np.shape(first)[-1] if np.ndim(first) >= 2 else None
        return [(None, None, d)], ["float32"]

    def forward(
        self,
        arrays: list[np.ndarray],
        user_mask: np.ndarray | None,
        static_kwargs: dict[str, Any],
        tensor_kwargs: dict[str, Any],
    ) -> Pass:
        """One recorded forward pass; stateful layers' states are left as they were."""
        key = (user_mask is not None, tuple(sorted((k, _key(v)) for k, v in static_kwargs.items())))
        rec = self._recorders.get(key)
        if rec is None:
            rec = self._recorders[key] = Recorder(self.model, self.tree, static_kwargs)
        saved = stateful_states(self.tree)
        try:
            return rec.run(arrays, user_mask, tensor_kwargs)
        finally:
            restore_states(saved)


def session_for(model: Any) -> ProbeSession:
    """The probe session of ``model`` (created on first use)."""
    check_model(model)
    try:
        hit = _SESSIONS.get(model)
    except TypeError:
        hit = None
    if hit is not None:
        return hit
    session = ProbeSession(model)
    _SESSIONS[model] = session
    return session


def run_passes(
    session: ProbeSession,
    arrays: list[np.ndarray],
    lengths: np.ndarray | None,
    mask: np.ndarray | None,
    call_kwargs: dict[str, Any] | None = None,
) -> list[tuple[np.ndarray, int, list[np.ndarray], Pass]]:
    """One recorded pass per group of equal-length sequences:
    ``(sample indices, length, inputs (user mask last, if any), pass)``."""
    from .batching import length_groups, split_kwargs, take

    static, tensors = split_kwargs(call_kwargs)
    b = arrays[0].shape[0]
    out = []
    for idx, n, group in length_groups(arrays, lengths, mask):
        inputs, umask = (group[:-1], group[-1]) if mask is not None else (group, None)
        p = session.forward(inputs, umask, static, take(tensors, idx, b))
        out.append((idx, n, group, p))
    return out
