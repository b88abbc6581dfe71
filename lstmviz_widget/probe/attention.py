"""Attention weights of the attention layers of a Keras model, as the model used them.

``capture_attention(model, arrays)`` records every call of a ``keras.layers.Attention``,
``AdditiveAttention`` or ``MultiHeadAttention`` (also ``GroupedQueryAttention``) layer anywhere
in the model's layer tree — nested models and custom layers included — during the probe's
recorded forward pass (``probe.record``): each call runs with its own arguments
(``use_causal_mask``, ``attention_mask``, the Keras masks of its inputs, …) and
``return_attention_scores=True``, and hands the model only the output it asked for. The
result, per layer call, is an :class:`~lstmviz_widget.data.AttentionCapture` with scores
``(B, heads, T_query, T_key)``, float32, heads = 1 for single-head layers.

A ``MultiHeadAttention`` built with flash attention cannot return scores; its flash setting is
turned off for the probe's own call only and restored afterwards (the maths is the same).

Custom attention layers
-----------------------
A layer of your own shows up in the capture when it follows one of two protocols:

1. It defines a method ``lstmviz_attention_scores(self, *args, **kwargs)``. The probe calls it
   with the same arguments the model passed to ``call`` (each tensor carrying its Keras mask,
   if any; ``training`` is dropped), inside the same forward pass. It returns the attention
   weights, ``(B, T_query, T_key)`` or ``(B, heads, T_query, T_key)``, each row summing to 1
   over the keys::

       class DotAttention(keras.layers.Layer):
           def call(self, query, value):
               return keras.ops.matmul(self.lstmviz_attention_scores(query, value), value)

           def lstmviz_attention_scores(self, query, value):
               logits = keras.ops.matmul(query, keras.ops.transpose(value, (0, 2, 1)))
               return keras.ops.softmax(logits, axis=-1)

2. Or its ``call`` accepts ``return_attention_scores=True`` and then returns
   ``(output, scores)``, as the Keras layers do.

For a layer in a Functional graph, which tensor is the query and which the key is read off
the graph call's arguments: a list first argument is ``[query, value, key]`` (key = value when
absent), otherwise the arguments named ``query`` and ``key`` (or ``value``), else the first and
second positional ones; ``query_source``/``key_source`` name the layers that produced them
(None inside subclassed models and custom layers, which have no graph).

Keys of the result are layer paths (``outer/inner`` for a layer inside a nested model or a
custom layer, see ``probe.tree``); a layer called more than once gets ``name``, ``name:1``,
``name:2``, …. For a ragged batch each
group of equal-length sequences is run at its own length (as ``capture`` does); scores are
zero-padded: keys past a sequence's end get weight 0 and rows of padded query steps are all 0.
Rows of masked query steps are what the layer computes (``MultiHeadAttention`` gives all-zero
rows there; ``Attention`` keeps its rows and zeroes the output instead).
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import keras
import numpy as np

from ..data import AttentionCapture
from .record import AttentionCall, Pass
from .session import run_passes, session_for
from .tree import ATTENTION_BUILTIN, PROTOCOL_METHOD, AttentionSlot


# -- roles and sources (Functional graphs only) ----------------------------------------------
def _graph_nodes(graph: Any) -> set[int]:
    """ids of every Node reachable backwards from the graph's outputs."""
    seen: set[int] = set()
    stack = list(graph.outputs)
    while stack:
        tensor = stack.pop()
        history = getattr(tensor, "_keras_history", None)
        if history is None:
            continue
        node = history.operation._inbound_nodes[history.node_index]
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(node.input_tensors)
    return seen


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


def _sources(slot: AttentionSlot, call: int) -> tuple[str | None, str | None]:
    """(query source, key source) of the ``call``-th call, when the layer sits in a graph."""
    parent = slot.parent
    graph = getattr(parent, "_functional", None) if isinstance(parent, keras.Sequential) else parent
    if not isinstance(graph, keras.src.models.functional.Functional):
        return None, None
    nodes = _graph_nodes(graph)
    calls = [n for n in slot.layer._inbound_nodes if id(n) in nodes]
    if call >= len(calls):
        return None, None
    q, k = _roles(slot.layer, calls[call])
    return _source(q, slot.prefix), _source(k, slot.prefix)


# -- scores ----------------------------------------------------------------------------------
def _as_scores(raw: Any, layer: Any, batch: int) -> np.ndarray | None:
    scores = np.asarray(raw, dtype=np.float32)
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
    if not isinstance(layer, ATTENTION_BUILTIN):
        sums = scores.sum(-1)
        if not np.all(np.isclose(sums, 1.0, atol=1e-3) | np.isclose(sums, 0.0, atol=1e-6)):
            warnings.warn(
                f"attention layer {layer.name!r}: rows of its scores do not sum to 1 over the "
                "keys; they are shown as given.",
                RuntimeWarning,
                stacklevel=4,
            )
    return scores


def assemble_attention(
    groups: list[tuple[np.ndarray, Pass]], b: int
) -> dict[str, AttentionCapture]:
    """Attention captures from the recorded passes of each length group, zero-padded."""
    if not groups or not groups[0][1].attention:
        return {}
    per_group = [
        (
            idx,
            [
                None if c.scores is None else _as_scores(c.scores, c.slot.layer, len(idx))
                for c in p.attention
            ],
        )
        for idx, p in groups
    ]
    result: dict[str, AttentionCapture] = {}
    first: list[AttentionCall] = groups[0][1].attention
    for i, call in enumerate(first):
        parts = [(idx, s[i]) for idx, s in per_group]
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
        q, k = _sources(call.slot, call.call)
        result[call.name] = AttentionCapture(
            name=call.name,
            kind=type(call.slot.layer).__name__,
            scores=np.ascontiguousarray(scores, dtype=np.float32),
            query_source=q,
            key_source=k,
        )
    return result


def capture_attention(
    model: Any,
    arrays: list[np.ndarray],
    *,
    lengths: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    call_kwargs: dict[str, Any] | None = None,
) -> dict[str, AttentionCapture]:
    """Attention weights of every attention layer call of ``model`` on ``arrays``.

    Parameters
    ----------
    model : keras.Model
        A built Keras 3 model (Sequential, Functional or subclassed).
    arrays : list of ndarray
        The model inputs, one per model input, batch first (as ``prepare_batch`` returns them).
    lengths : ndarray of int (B,), optional
        Valid steps per sample of a padded ragged batch: each group of equal length runs at
        its own length, as ``capture`` does.
    mask : ndarray of bool (B, T), optional
        The user mask given to ``capture``, ANDed into every recurrent layer's mask.
    call_kwargs : dict, optional
        Further arguments of the model's ``call``.

    Returns
    -------
    dict of str to AttentionCapture
        Empty when the model has no attention layer.
    """
    session = session_for(model)
    if not session.tree.attention:
        return {}
    passes = run_passes(session, arrays, lengths, mask, call_kwargs)
    return assemble_attention([(idx, p) for idx, _, _, p in passes], arrays[0].shape[0])
