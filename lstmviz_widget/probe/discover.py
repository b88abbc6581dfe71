"""Finding the recurrent layers of a built Keras 3 model, in graph order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras

SUPPORTED = (
    "LSTM, GRU, SimpleRNN, keras.layers.RNN wrapping one LSTMCell/GRUCell/SimpleRNNCell, "
    "and Bidirectional around any of these"
)

_CELLS = {
    keras.layers.LSTMCell: "LSTM",
    keras.layers.GRUCell: "GRU",
    keras.layers.SimpleRNNCell: "SimpleRNN",
}


@dataclass
class Direction:
    """One recurrence to replay: a plain RNN layer, or one half of a Bidirectional."""

    name: str  # capture id, e.g. "lstm" or "bidirectional/backward"
    layer: Any  # the keras RNN layer holding the weights
    kind: str
    label: str | None  # "forward" / "backward" for a Bidirectional's halves


@dataclass
class Site:
    """A recurrent layer call in the graph: where its input, mask and initial state come from."""

    name: str
    layer: Any  # RNN layer or Bidirectional wrapper
    node: Any  # the keras Node of this call
    directions: list[Direction] = field(default_factory=list)

    @property
    def x(self):
        args = self.node.arguments.args
        first = args[0]
        return first[0] if isinstance(first, (list, tuple)) else first

    @property
    def mask(self):
        return self.node.arguments.kwargs.get("mask")

    @property
    def initial_state(self) -> list:
        kw = self.node.arguments.kwargs.get("initial_state")
        if kw is not None:
            return list(kw) if isinstance(kw, (list, tuple)) else [kw]
        args = self.node.arguments.args
        if isinstance(args[0], (list, tuple)) and len(args[0]) > 1:
            return list(args[0][1:])
        if len(args) > 1 and args[1] is not None:
            return list(args[1]) if isinstance(args[1], (list, tuple)) else [args[1]]
        return []


def cell_kind(layer: Any) -> str | None:
    """``"LSTM"``/``"GRU"``/``"SimpleRNN"`` for a supported RNN layer, else None."""
    if not isinstance(layer, keras.layers.RNN):
        return None
    return _CELLS.get(type(layer.cell))


def _unsupported(layer: Any, why: str) -> NotImplementedError:
    return NotImplementedError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported: {why}. "
        f"lstmviz-widget supports {SUPPORTED}."
    )


def functional_graph(model: Any) -> Any:
    """The Functional graph behind a built Sequential or Functional model; clear errors else."""
    if not isinstance(model, keras.Model):
        kind = type(model).__module__.split(".")[0]
        hint = (
            " (tf.keras / Keras 2 models are not supported; use Keras 3)"
            if kind
            in (
                "tf_keras",
                "tensorflow",
            )
            else ""
        )
        raise TypeError(
            f"expected a Keras 3 model (keras.Model), got {type(model).__name__}{hint}."
        )
    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        if graph is None:
            raise ValueError(
                f"Sequential model {model.name!r} has never been built, so its layers have no "
                "input shape. Start it with keras.Input((None, features)) or call "
                "model.build((None, None, features)) first."
            )
        return graph
    if isinstance(model, keras.src.models.functional.Functional):
        return model
    raise NotImplementedError(
        f"{type(model).__name__} is a subclassed keras.Model without a functional graph, so its "
        "recurrent layers' inputs cannot be traced. Build the same network with the Functional "
        "API (keras.Model(inputs, outputs)) or keras.Sequential."
    )


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


def find_sites(graph: Any) -> tuple[list[Site], list[tuple[Any, Any, list[Site]]]]:
    """Recurrent layer calls of ``graph`` in graph order, and nested models holding more.

    Returns ``(sites, nested)`` where ``nested`` lists ``(inner_model, node, inner_sites)``.
    """
    nodes = _graph_nodes(graph)
    sites: list[Site] = []
    nested: list[tuple[Any, Any, list[Site]]] = []
    for layer in graph.layers:
        calls = [n for n in layer._inbound_nodes if id(n) in nodes]
        if not calls:
            continue
        if isinstance(layer, keras.Model):
            inner = functional_graph(layer)
            inner_sites, inner_nested = find_sites(inner)
            if inner_nested:
                raise _unsupported(layer, "models nested more than one level deep")
            if inner_sites:
                if len(calls) > 1:
                    raise _unsupported(layer, "a nested model called more than once")
                for s in inner_sites:
                    s.name = f"{layer.name}/{s.name}"
                    for d in s.directions:
                        d.name = f"{layer.name}/{d.name}"
                nested.append((inner, calls[0], inner_sites))
            continue
        site = _site(layer, calls)
        if site is not None:
            sites.append(site)
    return sites, nested


def _site(layer: Any, calls: list[Any]) -> Site | None:
    if isinstance(layer, keras.layers.Bidirectional):
        halves = [("forward", layer.forward_layer), ("backward", layer.backward_layer)]
        for _, sub in halves:
            _check_rnn(sub, owner=layer)
        if len(calls) > 1:
            raise _unsupported(layer, f"a recurrent layer called {len(calls)} times (shared)")
        dirs = [Direction(f"{layer.name}/{lab}", sub, cell_kind(sub), lab) for lab, sub in halves]
        return Site(layer.name, layer, calls[0], dirs)
    is_rnn = isinstance(layer, keras.layers.RNN)
    if not is_rnn:
        if "ConvLSTM" in type(layer).__name__ or "RNN" in type(layer).__name__:
            raise _unsupported(layer, "convolutional or custom recurrent layers have no replay")
        return None
    _check_rnn(layer)
    if len(calls) > 1:
        raise _unsupported(layer, f"a recurrent layer called {len(calls)} times (shared)")
    return Site(layer.name, layer, calls[0], [Direction(layer.name, layer, cell_kind(layer), None)])


def _check_rnn(layer: Any, owner: Any = None) -> None:
    target = owner or layer
    if not isinstance(layer, keras.layers.RNN):
        raise _unsupported(target, f"it wraps {type(layer).__name__}")
    if cell_kind(layer) is None:
        cell = layer.cell
        what = (
            "stacked cells (StackedRNNCells)"
            if type(cell).__name__ == "StackedRNNCells"
            else f"its cell is {type(cell).__name__}"
        )
        raise _unsupported(target, what)
    if getattr(layer, "stateful", False):
        raise _unsupported(
            target, "stateful=True carries state between calls; rebuild it with stateful=False"
        )
