"""Finding what to record: the recurrent and attention layers anywhere in a model's layer tree.

One discovery path for every kind of Keras 3 model: Sequential, Functional and subclassed
models, custom layers holding layers (as attributes, in lists or dicts), nested models at any
depth. The tree is walked through each layer's tracked sub-layers; a layer reachable twice is
listed once, under its first path.

Names (the keys of ``Capture.layers`` and ``Capture.attention``) are paths of layer names from
the model down, joined by ``/``: ``"lstm"``, ``"encoder/gru"``, ``"inner_model/lstm"``. The two
halves of a ``Bidirectional`` are ``"<name>/forward"`` and ``"<name>/backward"``. A layer
called more than once in one forward pass (shared weights, a decoder step in a loop) gives one
entry per call: the first call has the plain name, the k-th further call ``"<name>:k"``
(``"gru"``, ``"gru:1"``, ``"gru:2"``; for a Bidirectional ``"bi:1/forward"``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
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

#: Name of the method a custom attention layer defines to expose its weights.
PROTOCOL_METHOD = "lstmviz_attention_scores"

ATTENTION_BUILTIN = (
    keras.layers.Attention,  # AdditiveAttention subclasses it
    keras.layers.MultiHeadAttention,
    keras.layers.GroupQueryAttention,
)


@dataclass
class RnnSlot:
    """One recurrence to record: a plain RNN layer, or one half of a Bidirectional."""

    path: str  # "lstm", "encoder/gru", "bi/forward"
    layer: Any  # the keras RNN layer holding the weights (whose inner_loop runs)
    kind: str  # "LSTM" / "GRU" / "SimpleRNN"
    label: str | None  # "forward"/"backward" for a Bidirectional's halves
    owner: Any  # the layer a user mask is applied to: the RNN itself or its Bidirectional
    owner_path: str  # path of the owner

    def name(self, call: int) -> str:
        """The capture id of this slot's ``call``-th call (0-based) in one forward pass."""
        if call == 0:
            return self.path
        if self.label is None:
            return f"{self.path}:{call}"
        return f"{self.owner_path}:{call}/{self.label}"


@dataclass
class AttentionSlot:
    path: str
    layer: Any
    parent: Any  # the model or layer holding it (for reading query/key sources of a graph)
    prefix: str  # "outer/" for a layer inside "outer"

    def name(self, call: int) -> str:
        return self.path if call == 0 else f"{self.path}:{call}"


@dataclass
class Tree:
    rnns: list[RnnSlot] = field(default_factory=list)
    owners: list[Any] = field(default_factory=list)  # RNN / Bidirectional layers, outermost
    attention: list[AttentionSlot] = field(default_factory=list)


def cell_kind(layer: Any) -> str | None:
    """``"LSTM"``/``"GRU"``/``"SimpleRNN"`` for a supported RNN layer, else None."""
    if not isinstance(layer, keras.layers.RNN):
        return None
    return _CELLS.get(type(layer.cell))


def unsupported(layer: Any, why: str) -> NotImplementedError:
    return NotImplementedError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported: {why}. "
        f"lstmviz-widget supports {SUPPORTED}."
    )


def check_model(model: Any) -> None:
    """A clear error for what is not a built Keras 3 model."""
    if not isinstance(model, keras.Model):
        kind = type(model).__module__.split(".")[0]
        hint = (
            " (tf.keras / Keras 2 models are not supported; use Keras 3)"
            if kind in ("tf_keras", "tensorflow")
            else ""
        )
        raise TypeError(
            f"expected a Keras 3 model (keras.Model), got {type(model).__name__}{hint}."
        )
    if not model.built:
        raise ValueError(
            f"model {model.name!r} has never been built, so its layers have no weights. Start "
            "it with keras.Input((None, features)), call model.build((None, None, features)), "
            "or call it once on a batch first."
        )


def _children(layer: Any) -> list[Any]:
    return list(getattr(layer, "_layers", []) or [])


def is_attention(layer: Any) -> bool:
    if hasattr(layer, PROTOCOL_METHOD) or isinstance(layer, ATTENTION_BUILTIN):
        return True
    if isinstance(layer, (keras.Model, keras.layers.RNN, keras.layers.Bidirectional)):
        return False
    if not isinstance(layer, keras.layers.Layer):
        return False
    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
    return "return_attention_scores" in params


def _check_rnn(layer: Any, owner: Any = None) -> str:
    target = owner or layer
    if not isinstance(layer, keras.layers.RNN):
        raise unsupported(target, f"it wraps {type(layer).__name__}")
    kind = cell_kind(layer)
    if kind is None:
        cell = getattr(layer, "cell", None)
        if "ConvLSTM" in type(layer).__name__:
            what = "convolutional recurrent layers have no replay"
        elif type(cell).__name__ == "StackedRNNCells":
            what = "stacked cells (StackedRNNCells)"
        else:
            what = f"its cell is {type(cell).__name__}, which has no replay"
        raise unsupported(target, what)
    return kind


def _walk(layer: Any, prefix: str, seen: set[int]) -> Iterator[tuple[str, Any, Any]]:
    for child in _children(layer):
        if id(child) in seen:
            continue
        seen.add(id(child))
        path = f"{prefix}{child.name}"
        yield path, child, layer
        if isinstance(child, (keras.layers.RNN, keras.layers.Bidirectional)):
            continue  # their insides are the cell / the two halves, handled by the caller
        yield from _walk(child, f"{path}/", seen)


def discover(model: Any) -> Tree:
    """Every recurrent and attention layer under ``model``; clear errors for unsupported ones."""
    check_model(model)
    tree = Tree()
    for path, layer, parent in _walk(model, "", set()):
        prefix = path[: len(path) - len(layer.name)]
        if isinstance(layer, keras.layers.Bidirectional):
            halves = (("forward", layer.forward_layer), ("backward", layer.backward_layer))
            for label, sub in halves:
                kind = _check_rnn(sub, owner=layer)
                tree.rnns.append(RnnSlot(f"{path}/{label}", sub, kind, label, layer, path))
            tree.owners.append(layer)
        elif isinstance(layer, keras.layers.RNN):
            kind = _check_rnn(layer)
            tree.rnns.append(RnnSlot(path, layer, kind, None, layer, path))
            tree.owners.append(layer)
        elif "RNN" in type(layer).__name__ and not isinstance(layer, keras.Model):
            if isinstance(layer, keras.layers.Layer) and not _children(layer):
                raise unsupported(layer, "custom recurrent layers have no replay")
        elif is_attention(layer):
            tree.attention.append(AttentionSlot(path, layer, parent, prefix))
    return tree


def no_recurrent_layer(model: Any) -> ValueError:
    names = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in _children(model))
    return ValueError(
        f"model {model.name!r} has no recurrent layer to probe (layers: {names}). "
        "lstmviz-widget explores LSTM, GRU, SimpleRNN and Bidirectional layers."
    )
