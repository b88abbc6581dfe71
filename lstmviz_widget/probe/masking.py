"""A user-given ``mask=``: the model's graph re-run with that mask fed to every recurrent call.

Keras only masks steps that a Masking/Embedding layer marks; a mask passed to ``capture`` must
reach each recurrent layer's call, ANDed with the model's own mask. The graph is re-run
symbolically with the same layer objects (weights shared) and one extra boolean input.
"""

from __future__ import annotations

import weakref
from typing import Any

import keras

from .discover import cell_kind, functional_graph
from .submodel import Plan, build_plan

_PLANS: dict[int, tuple[weakref.ref, Plan]] = {}
_GRAPHS: dict[int, tuple[weakref.ref, Any]] = {}


def masked_graph(model: Any) -> Any:
    """``model``'s graph with one more boolean input, the user mask, fed to every recurrent call."""
    hit = _GRAPHS.get(id(model))
    if hit is not None and hit[0]() is model:
        return hit[1]
    graph = _build_masked_graph(model)
    _GRAPHS[id(model)] = (weakref.ref(model), graph)
    return graph


def _build_masked_graph(model: Any) -> Any:
    graph = functional_graph(model)
    inputs = [
        keras.Input(batch_shape=t.shape, dtype=t.dtype, name=f"lstmviz_{t.name}")
        for t in graph.inputs
    ]
    user_mask = keras.Input(shape=(None,), dtype="bool", name="lstmviz_user_mask")

    def operation_fn(op: Any) -> Any:
        if not (cell_kind(op) or isinstance(op, keras.layers.Bidirectional)):
            return op

        def call(*args: Any, **kwargs: Any) -> Any:
            own = kwargs.get("mask")
            kwargs["mask"] = user_mask if own is None else keras.ops.logical_and(own, user_mask)
            return op(*args, **kwargs)

        return call

    outputs = graph._run_through_graph(inputs, operation_fn=operation_fn)
    return keras.Model([*inputs, user_mask], outputs, name=f"{model.name}_masked")


def masked_plan_for(model: Any) -> Plan:
    """The cached capture plan of ``model`` with an extra user-mask input (last)."""
    hit = _PLANS.get(id(model))
    if hit is not None and hit[0]() is model:
        return hit[1]
    plan = build_plan(masked_graph(model))
    _PLANS[id(model)] = (weakref.ref(model), plan)
    return plan
