"""A user-given ``mask=``: the model's graph re-run with that mask fed to every recurrent call.

Keras only masks steps that a Masking/Embedding layer marks; a mask passed to ``capture`` must
reach each recurrent layer's call, ANDed with the model's own mask. The graph is re-run
symbolically with the same layer objects (weights shared) and one extra boolean input.
"""

from __future__ import annotations

from typing import Any

import keras

from .discover import cell_kind, functional_graph


def masked_graph(model: Any) -> Any:
    """``model``'s graph with one more boolean input, the user mask, fed to every recurrent call."""
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
