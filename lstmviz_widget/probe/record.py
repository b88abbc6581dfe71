"""One forward pass of the model itself that records every recurrent and attention layer call.

For the duration of the pass each recurrent layer's ``inner_loop`` (the step where Keras runs
the recurrence, fused kernels included) is wrapped: it runs as usual, but with
``return_sequences`` forced on so the full hidden sequence comes out, and it stashes the
call's input sequence, mask, initial state (zeros, the ``initial_state=`` given, or a stateful
layer's current states) and that sequence. Attention layers' ``call`` is wrapped to also
produce their scores. The stashed tensors are returned as extra outputs of the backend's
compiled function — ``tf.function`` on TensorFlow, ``jax.jit`` over ``stateless_call`` on JAX,
the eager module call on PyTorch — so the recording costs about one ``predict_on_batch``.

A user ``mask=`` is ANDed into each outermost recurrent layer's mask (and into the mask it
passes on), as if the model had masked those steps itself.

The wrappers live on the layer *instances* only while the pass is traced or run, and are
removed afterwards; the model is left as it was (stateful layers' states are restored).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from .tree import ATTENTION_BUILTIN, PROTOCOL_METHOD, AttentionSlot, RnnSlot, Tree

BACKEND = keras.backend.backend()


@dataclass
class RnnCall:
    """What one call of one recurrence read and produced (numpy after the pass)."""

    name: str
    slot: RnnSlot
    x: Any  # (B, T, D) input, in input order
    mask: Any  # (B, T) bool or None
    init: list[Any]  # [h0] or [h0, c0]
    seq: Any  # (B, T, U) output sequence, in processing order


@dataclass
class AttentionCall:
    name: str
    slot: AttentionSlot
    call: int  # which call of the layer (0-based)
    scores: Any  # raw scores, or None when the layer could not give them


@dataclass
class Pass:
    """The result of one recorded forward pass, as numpy arrays."""

    outputs: list[np.ndarray]  # the model's outputs, flattened
    rnn: list[RnnCall]
    attention: list[AttentionCall]


@dataclass
class _Stash:
    rnn: list[RnnCall] = field(default_factory=list)
    attention: list[AttentionCall] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)

    def count(self, key: Any) -> int:
        k = self.counts.get(id(key), 0)
        self.counts[id(key)] = k + 1
        return k


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # past Keras's attribute tracking


def _unset(obj: Any, name: str) -> None:
    if name in vars(obj):
        object.__delattr__(obj, name)


def _and(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return keras.ops.logical_and(keras.ops.cast(a, "bool"), keras.ops.cast(b, "bool"))


def _wrap_inner_loop(slot: RnnSlot, stash: _Stash, replace: Callable | None) -> Callable:
    layer = slot.layer
    original = layer.inner_loop

    @functools.wraps(original)
    def inner_loop(sequences, initial_state, mask, training=False):
        k = stash.count(layer)
        m = mask[0] if isinstance(mask, (list, tuple)) else mask
        init = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if getattr(layer, "stateful", False):
            # a stateful layer's states are read now, before its call assigns the new ones
            init = [keras.ops.copy(s) for s in init]
            initial_state = init
        name = slot.name(k)
        if replace is not None:
            return replace(name, slot, sequences, init, m, training)
        keep = layer.return_sequences
        layer.return_sequences = True  # fused kernels read it: the full sequence comes out
        try:
            last, outputs, states = original(sequences, initial_state, mask, training=training)
        finally:
            layer.return_sequences = keep
        stash.rnn.append(RnnCall(name, slot, sequences, m, init, outputs))
        return last, outputs, states

    return inner_loop


def _wrap_owner_for_mask(owner: Any, user_mask: Any) -> tuple[Callable, Callable]:
    call, compute_mask = owner.call, owner.compute_mask

    def masked_call(*args, **kwargs):
        kwargs["mask"] = _and(kwargs.get("mask"), user_mask)
        return call(*args, **kwargs)

    def masked_compute_mask(inputs, previous_mask=None):
        return compute_mask(inputs, _and(previous_mask, user_mask))

    return masked_call, masked_compute_mask


@contextlib.contextmanager
def _flash_off(layer: Any) -> Iterator[None]:
    flash = getattr(layer, "_flash_attention", None)
    if flash:
        layer._flash_attention = False
    try:
        yield
    finally:
        if flash:
            layer._flash_attention = flash


def _wrap_attention(slot: AttentionSlot, stash: _Stash) -> Callable:
    layer = slot.layer
    original = layer.call

    def call(*args, **kwargs):
        k = stash.count(layer)
        entry = AttentionCall(slot.name(k), slot, k, None)
        stash.attention.append(entry)
        wanted = bool(kwargs.get("return_attention_scores", False))
        plain = {n: v for n, v in kwargs.items() if n not in ("return_attention_scores",)}
        if hasattr(layer, PROTOCOL_METHOD):
            extra = {n: v for n, v in plain.items() if n != "training"}
            entry.scores = getattr(layer, PROTOCOL_METHOD)(*args, **extra)
            rank = len(getattr(entry.scores, "shape", ()))
            if rank not in (3, 4):
                raise ValueError(
                    f"attention layer {layer.name!r} ({type(layer).__name__}) gave scores of "
                    f"shape {tuple(entry.scores.shape)}; expected (B, T_query, T_key) or "
                    "(B, heads, T_query, T_key)."
                )
            return original(*args, **kwargs)
        try:
            with _flash_off(layer):
                result = original(*args, **plain, return_attention_scores=True)
        except ValueError as err:
            if "flash" in str(err).lower():
                raise ValueError(
                    f"attention layer {layer.name!r} uses flash attention, which cannot return "
                    "its attention scores. Build it with flash_attention=False or call "
                    "keras.config.disable_flash_attention() before creating the model."
                ) from err
            if isinstance(layer, ATTENTION_BUILTIN):
                raise
            result = None
        except Exception:
            if isinstance(layer, ATTENTION_BUILTIN):
                raise
            result = None
        if not isinstance(result, (list, tuple)) or len(result) != 2:
            if isinstance(layer, ATTENTION_BUILTIN):
                raise ValueError(
                    f"attention layer {layer.name!r} ({type(layer).__name__}) was called with "
                    "return_attention_scores=True but did not return (output, scores)."
                )
            warnings.warn(
                f"layer {layer.name!r} ({type(layer).__name__}) accepts "
                "return_attention_scores but calling it that way failed; it is left out of "
                f"the attention capture. Define {PROTOCOL_METHOD}() on it to expose its "
                "weights.",
                RuntimeWarning,
                stacklevel=2,
            )
            return original(*args, **kwargs)
        out, entry.scores = result
        return (out, entry.scores) if wanted else out

    return call


@contextlib.contextmanager
def patched(
    tree: Tree,
    stash: _Stash,
    user_mask: Any = None,
    *,
    replace: Callable | None = None,
    attention: bool = True,
) -> Iterator[None]:
    """Wrap the tree's layers for one trace/run; ``replace`` swaps the recurrence itself."""
    touched: list[tuple[Any, str]] = []
    try:
        for slot in tree.rnns:
            _set(slot.layer, "inner_loop", _wrap_inner_loop(slot, stash, replace))
            touched.append((slot.layer, "inner_loop"))
        for owner in tree.owners:
            if isinstance(owner, keras.layers.Bidirectional):
                # the fused Bidirectional kernels skip the halves' inner_loop
                for attr in ("_can_attempt_fused_lstm", "_can_attempt_fused_gru"):
                    _set(owner, attr, lambda *a, **k: False)
                    touched.append((owner, attr))
            if user_mask is not None:
                call, compute_mask = _wrap_owner_for_mask(owner, user_mask)
                _set(owner, "call", call)
                _set(owner, "compute_mask", compute_mask)
                touched += [(owner, "call"), (owner, "compute_mask")]
        if attention:
            for aslot in tree.attention:
                _set(aslot.layer, "call", _wrap_attention(aslot, stash))
                touched.append((aslot.layer, "call"))
        yield
    finally:
        for obj, name in reversed(touched):
            _unset(obj, name)


# -- stateful layers -------------------------------------------------------------------------
def stateful_states(tree: Tree) -> list[tuple[Any, np.ndarray]]:
    out = []
    for owner in tree.owners:
        layers = (
            [owner.forward_layer, owner.backward_layer]
            if isinstance(owner, keras.layers.Bidirectional)
            else [owner]
        )
        for layer in layers:
            if getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None:
                for v in keras.tree.flatten(layer.states):
                    out.append((v, np.array(v.numpy())))
    return out


def restore_states(saved: list[tuple[Any, np.ndarray]]) -> None:
    for v, value in saved:
        v.assign(value)


# -- the compiled pass, per backend ----------------------------------------------------------
class _NoRetracingNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def quiet_retracing() -> Iterator[None]:
    """TensorFlow's "N out of the last N calls ... retracing" notes are the probe's own
    business (one trace per model and length kind), not the user's: hidden while it runs."""
    if BACKEND != "tensorflow":
        yield
        return
    note = _NoRetracingNotes()
    logger = logging.getLogger("tensorflow")
    logger.addFilter(note)
    try:
        yield
    finally:
        logger.removeFilter(note)


def to_numpy(x: Any) -> Any:
    if x is None:
        return None
    return np.asarray(keras.ops.convert_to_numpy(x))


def _model_inputs(arrays: list[Any]) -> Any:
    return arrays[0] if len(arrays) == 1 else list(arrays)


def _pack(stash: _Stash, outputs: Any) -> tuple[list, list, list]:
    flat = list(keras.tree.flatten(outputs))
    rnn = [[c.x, c.mask, *c.init, c.seq] for c in stash.rnn]
    att = [c.scores for c in stash.attention]
    return flat, rnn, att


class Recorder:
    """The recorded forward pass of one model, compiled once per (mask, call kwargs) kind."""

    def __init__(self, model: Any, tree: Tree, static_kwargs: dict[str, Any]) -> None:
        self._model = weakref.ref(model)  # the session holding this recorder is weak too
        self.tree, self.static_kwargs = tree, static_kwargs
        self.meta: _Stash | None = None
        self._fn = self._build()

    @property
    def model(self) -> Any:
        return self._model()

    # one trace: patch, call the model, unpatch; the stash's metadata is kept for unpacking
    def _trace(self, arrays, user_mask, tensor_kwargs):
        stash = _Stash()
        with patched(self.tree, stash, user_mask):
            out = self.model(
                _model_inputs(arrays), training=False, **self.static_kwargs, **tensor_kwargs
            )
        self.meta = stash
        return _pack(stash, out)

    def _build(self) -> Callable:
        if BACKEND == "tensorflow":
            import tensorflow as tf

            fn = tf.function(self._trace, reduce_retracing=True, autograph=False)
            return lambda arrays, m, kw: fn(list(arrays), m, kw)
        if BACKEND == "jax":
            import jax

            def stateless(tv, ntv, arrays, user_mask, tensor_kwargs):
                with keras.StatelessScope(
                    state_mapping=[
                        *zip(self.model.trainable_variables, tv, strict=True),
                        *zip(self.model.non_trainable_variables, ntv, strict=True),
                    ]
                ):
                    return self._trace(arrays, user_mask, tensor_kwargs)

            jitted = jax.jit(stateless)

            def run(arrays, m, kw):
                tv = [v.value for v in self.model.trainable_variables]
                ntv = [v.value for v in self.model.non_trainable_variables]
                return jitted(tv, ntv, list(arrays), m, kw)

            return run
        if BACKEND == "torch":
            import torch

            def run(arrays, m, kw):
                with torch.no_grad():
                    conv = [keras.ops.convert_to_tensor(a) for a in arrays]
                    mm = None if m is None else keras.ops.convert_to_tensor(m)
                    kk = {k: keras.ops.convert_to_tensor(v) for k, v in kw.items()}
                    return self._trace(conv, mm, kk)

            return run
        raise NotImplementedError(f"the Keras backend {BACKEND!r} is not supported by the probe")

    def run(
        self, arrays: list[np.ndarray], user_mask: np.ndarray | None, tensor_kwargs: dict
    ) -> Pass:
        with quiet_retracing():
            flat, rnn, att = self._fn(arrays, user_mask, tensor_kwargs)
        meta = self.meta
        assert meta is not None
        calls = []
        for c, values in zip(meta.rnn, rnn, strict=True):
            x, mask, *init, seq = values
            calls.append(
                RnnCall(
                    c.name,
                    c.slot,
                    np.asarray(to_numpy(x), np.float32),
                    None if mask is None else np.asarray(to_numpy(mask), bool),
                    [np.asarray(to_numpy(s), np.float32) for s in init],
                    np.asarray(to_numpy(seq), np.float32),
                )
            )
        atts = [
            AttentionCall(c.name, c.slot, c.call, None if s is None else to_numpy(s))
            for c, s in zip(meta.attention, att, strict=True)
        ]
        return Pass([to_numpy(o) for o in flat], calls, atts)
