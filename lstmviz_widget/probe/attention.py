"""Attention weights of the attention layers of a Keras model, as the model used them.

``capture_attention(model, arrays)`` finds every call of a ``keras.layers.Attention``,
``AdditiveAttention`` or ``MultiHeadAttention`` (also ``GroupedQueryAttention``) layer in the
model's Functional graph, nested models included. One sub-model returns the tensors each call
read (query, value, key, masks); each layer is then called eagerly on those tensors, with the
same keyword arguments the graph call used (``use_causal_mask``, ``attention_mask``, …) and the
Keras masks of its inputs attached, with ``return_attention_scores=True``. The result, per
layer, is an :class:`~lstmviz_widget.data.AttentionCapture` with scores ``(B, heads, T_query,
T_key)``, float32, heads = 1 for single-head layers.

A ``MultiHeadAttention`` built with flash attention cannot return scores; its flash setting is
turned off for the probe's own call only and restored afterwards (the maths is the same).

Custom attention layers
-----------------------
A layer of your own shows up in the capture when it follows one of two protocols:

1. It defines a method ``lstmviz_attention_scores(self, *args, **kwargs)``. The probe calls it
   with the same arguments the model's graph passed to ``call`` (tensors replaced by the
   concrete, eager tensors of the batch, each carrying its Keras mask, if any; ``training`` is
   dropped). It returns the attention weights, ``(B, T_query, T_key)`` or ``(B, heads,
   T_query, T_key)``, each row summing to 1 over the keys::

       class DotAttention(keras.layers.Layer):
           def call(self, query, value):
               return keras.ops.matmul(self.lstmviz_attention_scores(query, value), value)

           def lstmviz_attention_scores(self, query, value):
               logits = keras.ops.matmul(query, keras.ops.transpose(value, (0, 2, 1)))
               return keras.ops.softmax(logits, axis=-1)

2. Or its ``call`` accepts ``return_attention_scores=True`` and then returns
   ``(output, scores)``, as the Keras layers do.

Which tensor is the query and which the key is read off the call's arguments: a list first
argument is ``[query, value, key]`` (key = value when absent), otherwise the arguments named
``query`` and ``key`` (or ``value``), else the first and second positional ones.

Keys of the result are layer names (``outer/inner`` for a layer inside a nested model); a
layer called more than once gets ``name``, ``name:1``, ``name:2``, …. For a ragged batch each
group of equal-length sequences is run at its own length (as ``capture`` does); scores are
zero-padded: keys past a sequence's end get weight 0 and rows of padded query steps are all 0.
Rows of masked query steps are what the layer computes (``MultiHeadAttention`` gives all-zero
rows there; ``Attention`` keeps its rows and zeroes the output instead).
"""

from __future__ import annotations

import inspect
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras.src import backend as keras_backend

from ..data import AttentionCapture
from .discover import _graph_nodes, functional_graph

#: Name of the method a custom attention layer defines to expose its weights.
PROTOCOL_METHOD = "lstmviz_attention_scores"

_BUILTIN = (
    keras.layers.Attention,  # AdditiveAttention subclasses it
    keras.layers.MultiHeadAttention,
    keras.layers.GroupQueryAttention,
)


# -- shared with predictions.py --------------------------------------------------------------
def model_graph(model: Any, masked: bool = False) -> Any:
    """The model's Functional graph; with ``masked``, the graph with an extra user-mask input.

    The masked graph is the one ``capture(..., mask=)`` records (see ``probe.masking``).
    """
    if not masked:
        return functional_graph(model)
    from .masking import masked_graph

    return masked_graph(model)


def length_groups(
    arrays: list[np.ndarray], lengths: np.ndarray | None, mask: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, int, list[np.ndarray]]]:
    """``(sample indices, length, inputs)`` per group of equal-length sequences.

    Each group's inputs are cut to its length, as ``capture`` runs them, with the user mask
    (if any) appended as the last input.
    """
    b, t = arrays[0].shape[:2]
    if lengths is None:
        lengths = np.full(b, t, dtype=np.int64)
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        n = int(length)
        group = [a[idx, :n] if n != t else a[idx] for a in arrays]
        if mask is not None:
            group.append(mask[idx, :n])
        yield idx, n, group


def predict(model: Any, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """``predict_on_batch`` with the outputs always as a flat list (in ``model.outputs`` order)."""
    outs = model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
    return list(keras.tree.flatten(outs))


# -- finding the calls -----------------------------------------------------------------------
@dataclass
class _Call:
    key: str  # result key
    layer: Any
    node: Any  # the call's node, in the graph the layer sits in
    sym: list[Any]  # the call's tensors and their masks, in that graph
    masks: dict[int, int]  # id(argument tensor) -> index of its Keras mask in `sym`
    top: list[Any]  # the same tensors as seen from the outermost graph
    prefix: str  # "outer/" for a layer in a nested model


@dataclass
class _Plan:
    model: Any | None  # sub-model returning every call's tensors; None without attention
    calls: list[_Call]
    slots: list[list[int]]  # per call: indices of its `sym` tensors in the sub-model's outputs


def _is_attention(layer: Any) -> bool:
    if hasattr(layer, PROTOCOL_METHOD) or isinstance(layer, _BUILTIN):
        return True
    if isinstance(layer, keras.Model) or not isinstance(layer, keras.layers.Layer):
        return False
    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
    return "return_attention_scores" in params


def _unique(tensors: list[Any]) -> list[Any]:
    seen: dict[int, Any] = {}
    for t in tensors:
        seen.setdefault(id(t), t)
    return list(seen.values())


def _call_of(key: str, layer: Any, node: Any, prefix: str) -> _Call:
    args = _unique(node.arguments.keras_tensors)
    sym = list(args)
    masks: dict[int, int] = {}
    index = {id(t): i for i, t in enumerate(sym)}
    for t in args:
        m = keras_backend.get_keras_mask(t)
        if m is not None:
            if id(m) not in index:
                index[id(m)] = len(sym)
                sym.append(m)
            masks[id(t)] = index[id(m)]
    return _Call(key, layer, node, sym, masks, list(sym), prefix)


def _find(graph: Any, prefix: str = "") -> list[_Call]:
    nodes = _graph_nodes(graph)
    found: list[_Call] = []
    for layer in graph.layers:
        calls = [n for n in layer._inbound_nodes if id(n) in nodes]
        if not calls:
            continue
        if isinstance(layer, keras.Model):
            try:
                inner = functional_graph(layer)
            except (NotImplementedError, ValueError):
                continue  # a subclassed model: no graph to search
            inner_calls = _find(inner, f"{prefix}{layer.name}/")
            if not inner_calls:
                continue
            flat = _unique([t for c in inner_calls for t in c.top])
            where = {id(t): i for i, t in enumerate(flat)}
            sub = keras.Model(inner.inputs, flat, name=f"lstmviz_attention_{layer.name}")
            for k, node in enumerate(calls):
                outer = sub(node.arguments.args[0])
                outer = list(outer) if isinstance(outer, (list, tuple)) else [outer]
                for c in inner_calls:
                    key = c.key if k == 0 else f"{c.key}:{k}"
                    top = [outer[where[id(t)]] for t in c.top]
                    found.append(_Call(key, c.layer, c.node, c.sym, c.masks, top, c.prefix))
            continue
        if not _is_attention(layer):
            continue
        for k, node in enumerate(calls):
            key = f"{prefix}{layer.name}" + ("" if k == 0 else f":{k}")
            found.append(_call_of(key, layer, node, prefix))
    return found


def _build(model: Any, masked: bool) -> _Plan:
    graph = model_graph(model, masked)
    calls = _find(graph)
    if not calls:
        return _Plan(None, [], [])
    flat = _unique([t for c in calls for t in c.top])
    where = {id(t): i for i, t in enumerate(flat)}
    sub = keras.Model(graph.inputs, flat, name=f"lstmviz_attention_{model.name}")
    return _Plan(sub, calls, [[where[id(t)] for t in c.top] for c in calls])


_PLANS: dict[tuple[int, bool], tuple[weakref.ref, _Plan]] = {}
_MAX_PLANS = 8


def _plan_for(model: Any, masked: bool) -> _Plan:
    hit = _PLANS.get((id(model), masked))
    if hit is not None and hit[0]() is model:
        return hit[1]
    plan = _build(model, masked)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[(id(model), masked)] = (weakref.ref(model), plan)
    return plan


# -- roles and sources -----------------------------------------------------------------------
def _is_tensor(x: Any) -> bool:
    return isinstance(x, keras.KerasTensor)


def _roles(layer: Any, node: Any) -> tuple[Any, Any]:
    """The symbolic query and key (value when no key) tensors of one call."""
    args, kwargs = node.arguments.args, node.arguments.kwargs
    try:
        bound = dict(inspect.signature(layer.call).bind(*args, **kwargs).arguments)
    except TypeError:
        bound = {}
    values = list(bound.values()) if bound else [*args, *kwargs.values()]
    first = values[0] if values else None
    if isinstance(first, (list, tuple)) and first:
        q = first[0]
        k = first[2] if len(first) > 2 else first[1] if len(first) > 1 else first[0]
        return q, k
    q = bound.get("query", first)
    k = bound.get("key")
    if not _is_tensor(k):
        k = bound.get("value")
    if not _is_tensor(k):
        rest = [v for v in values[1:] if _is_tensor(v)]
        k = rest[0] if rest else q
    return q, k


def _source(t: Any, prefix: str) -> str | None:
    history = getattr(t, "_keras_history", None)
    if history is None:
        return None
    return f"{prefix}{history.operation.name}"


# -- scores ----------------------------------------------------------------------------------
@contextmanager
def _scores_allowed(layer: Any) -> Iterator[None]:
    """Turn a layer's flash attention off for one call (flash cannot return scores)."""
    flash = getattr(layer, "_flash_attention", None)
    if flash:
        layer._flash_attention = False
    try:
        yield
    finally:
        if flash:
            layer._flash_attention = flash


def _raw_scores(layer: Any, args: tuple, kwargs: dict) -> Any:
    kwargs = {k: v for k, v in kwargs.items() if k not in ("return_attention_scores", "training")}
    if hasattr(layer, PROTOCOL_METHOD):
        return getattr(layer, PROTOCOL_METHOD)(*args, **kwargs)
    try:
        with _scores_allowed(layer):
            result = layer(*args, **kwargs, return_attention_scores=True)
    except ValueError as err:
        if "flash" in str(err).lower():
            raise ValueError(
                f"attention layer {layer.name!r} uses flash attention, which cannot return its "
                "attention scores. Build it with flash_attention=False or call "
                "keras.config.disable_flash_attention() before creating the model."
            ) from err
        raise
    if not isinstance(result, (list, tuple)) or len(result) != 2:
        raise ValueError(
            f"attention layer {layer.name!r} ({type(layer).__name__}) was called with "
            "return_attention_scores=True but did not return (output, scores)."
        )
    return result[1]


def _as_scores(raw: Any, layer: Any, batch: int) -> np.ndarray | None:
    scores = np.asarray(keras.ops.convert_to_numpy(raw), dtype=np.float32)
    if scores.ndim == 3:
        scores = scores[:, None]
    custom = hasattr(layer, PROTOCOL_METHOD)
    if scores.ndim != 4 or scores.shape[0] != batch:
        what = (
            f"attention layer {layer.name!r} ({type(layer).__name__}) gave scores of shape "
            f"{scores.shape}; expected (B, T_query, T_key) or (B, heads, T_query, T_key) with "
            f"B = {batch}"
        )
        if custom:
            raise ValueError(what + ".")
        warnings.warn(what + "; it is left out of the capture.", RuntimeWarning, stacklevel=4)
        return None
    if not isinstance(layer, _BUILTIN):
        sums = scores.sum(-1)
        if not np.all(np.isclose(sums, 1.0, atol=1e-3) | np.isclose(sums, 0.0, atol=1e-6)):
            warnings.warn(
                f"attention layer {layer.name!r}: rows of its scores do not sum to 1 over the "
                "keys; they are shown as given.",
                RuntimeWarning,
                stacklevel=4,
            )
    return scores


def _group_scores(plan: _Plan, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
    outs = predict(plan.model, arrays)
    result: list[np.ndarray | None] = []
    for call, slots in zip(plan.calls, plan.slots, strict=True):
        values = [keras.ops.convert_to_tensor(outs[i]) for i in slots]
        tensors = {id(t): v for t, v in zip(call.sym, values, strict=True)}
        for t in call.sym:
            m = call.masks.get(id(t))
            if m is not None:
                keras_backend.set_keras_mask(tensors[id(t)], values[m])
        args, kwargs = call.node.arguments.fill_in(tensors)
        layer = call.layer
        if isinstance(layer, _BUILTIN) or hasattr(layer, PROTOCOL_METHOD):
            raw = _raw_scores(layer, args, kwargs)
        else:  # only its call signature says it can return scores: never fail the capture
            try:
                raw = _raw_scores(layer, args, kwargs)
            except Exception as err:
                warnings.warn(
                    f"layer {layer.name!r} ({type(layer).__name__}) accepts "
                    f"return_attention_scores but calling it that way failed ({err}); it is "
                    f"left out of the attention capture. Define {PROTOCOL_METHOD}() on it to "
                    "expose its weights.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                result.append(None)
                continue
        result.append(_as_scores(raw, layer, arrays[0].shape[0]))
    return result


def capture_attention(
    model: Any,
    arrays: list[np.ndarray],
    *,
    lengths: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> dict[str, AttentionCapture]:
    """Attention weights of every attention layer call of ``model`` on ``arrays``.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or Functional model.
    arrays : list of ndarray
        The model inputs, one per model input, batch first (as ``prepare_batch`` returns them).
    lengths : ndarray of int (B,), optional
        Valid steps per sample of a padded ragged batch: each group of equal length runs at
        its own length, as ``capture`` does.
    mask : ndarray of bool (B, T), optional
        The user mask given to ``capture``: the graph with that mask fed to its recurrent
        layers is the one run.

    Returns
    -------
    dict of str to AttentionCapture
        Empty when the model has no attention layer.
    """
    plan = _plan_for(model, mask is not None)
    if not plan.calls:
        return {}
    b = arrays[0].shape[0]
    groups = [(idx, _group_scores(plan, g)) for idx, _, g in length_groups(arrays, lengths, mask)]
    result: dict[str, AttentionCapture] = {}
    for i, call in enumerate(plan.calls):
        parts = [(idx, s[i]) for idx, s in groups]
        if any(s is None for _, s in parts):
            continue
        if len(parts) == 1:
            scores = parts[0][1]
        else:
            heads = parts[0][1].shape[1]
            tq = max(s.shape[2] for _, s in parts)
            tk = max(s.shape[3] for _, s in parts)
            scores = np.zeros((b, heads, tq, tk), np.float32)
            for idx, s in parts:
                scores[idx, :, : s.shape[2], : s.shape[3]] = s
        q, k = _roles(call.layer, call.node)
        result[call.key] = AttentionCapture(
            name=call.key,
            kind=type(call.layer).__name__,
            scores=np.ascontiguousarray(scores, dtype=np.float32),
            query_source=_source(q, call.prefix),
            key_source=_source(k, call.prefix),
        )
    return result
