"""The capture sub-model: one forward pass that returns, for every recurrent layer, its input
sequence, its mask, its initial state and its full hidden sequence.

Where a layer already returns sequences its own output is used; otherwise a twin of the layer
(same config with ``return_sequences=True``, weights copied before every run) is called on the
same symbolic input. Bidirectional wrappers are split into their two directions.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import keras

from .discover import Site, find_sites, functional_graph


@dataclass
class DirectionSlots:
    """Where one direction's tensors sit in the sub-model's outputs."""

    seq: int  # hidden sequence output index
    part: slice | None  # feature slice of that output (concat-merged Bidirectional)
    input_order: bool  # True if the sequence comes in input order but the layer runs backwards
    init: list[int]  # initial state indices ([h] or [h, c]); empty for zeros


@dataclass
class SiteSlots:
    site: Site
    x: int
    mask: int | None
    directions: dict[str, DirectionSlots]


@dataclass
class Plan:
    model: Any  # the keras sub-model
    slots: list[SiteSlots]
    twins: list[tuple[Any, Any]] = field(default_factory=list)  # (twin, original)

    def sync_weights(self) -> None:
        """Copy the originals' current weights into the twins (the model may have trained)."""
        for twin, original in self.twins:
            for target, source in zip(twin.weights, original.weights, strict=True):
                target.assign(source.value)  # variable to variable: no numpy round trip

    def run(self, arrays: list) -> list:
        outs = self.model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
        return list(outs) if isinstance(outs, (list, tuple)) else [outs]


class _Outputs:
    """A de-duplicated list of symbolic tensors."""

    def __init__(self) -> None:
        self.tensors: list[Any] = []
        self._index: dict[int, int] = {}

    def add(self, tensor: Any) -> int:
        key = id(tensor)
        if key not in self._index:
            self._index[key] = len(self.tensors)
            self.tensors.append(tensor)
        return self._index[key]


def _twin(layer: Any, twins: list[tuple[Any, Any]]) -> Any:
    config = layer.get_config()
    config.update(return_sequences=True, return_state=False, name=f"lstmviz_twin_{layer.name}")
    twin = type(layer).from_config(config)
    twins.append((twin, layer))
    return twin


def _collect(graph: Any, outs: _Outputs, twins: list[tuple[Any, Any]]) -> list[SiteSlots]:
    sites, nested = find_sites(graph)
    order = {id(layer): i for i, layer in enumerate(graph.layers)}
    keyed = [((order[id(s.layer)], 0), _site_slots(s, outs, twins)) for s in sites]
    for inner, node, inner_sites in nested:
        inner_outs = _Outputs()
        inner_slots = [_site_slots(site, inner_outs, twins) for site in inner_sites]
        inner_model = keras.Model(inner.inputs, inner_outs.tensors, name=f"lstmviz_{inner.name}")
        outer = inner_model(node.arguments.args[0])
        outer = list(outer) if isinstance(outer, (list, tuple)) else [outer]
        remap = [outs.add(t) for t in outer]
        for k, s in enumerate(inner_slots):
            s.x = remap[s.x]
            s.mask = None if s.mask is None else remap[s.mask]
            for d in s.directions.values():
                d.seq = remap[d.seq]
                d.init = [remap[i] for i in d.init]
            keyed.append(((order[id(node.operation)], k), s))
    keyed.sort(key=lambda pair: pair[0])
    return [s for _, s in keyed]


def _site_slots(site: Site, outs: _Outputs, twins: list[tuple[Any, Any]]) -> SiteSlots:
    layer, x, mask = site.layer, site.x, site.mask
    init = site.initial_state
    x_i = outs.add(x)
    mask_i = None if mask is None else outs.add(mask)
    dirs: dict[str, DirectionSlots] = {}
    if isinstance(layer, keras.layers.Bidirectional):
        half = len(init) // 2
        inits = {"forward": init[:half], "backward": init[half:]}
        out0 = site.node.output_tensors[0]
        u = layer.forward_layer.units
        for d in site.directions:
            init_i = [outs.add(t) for t in inits[d.label]]
            if layer.return_sequences and layer.merge_mode == "concat":
                part = slice(0, u) if d.label == "forward" else slice(u, 2 * u)
                dirs[d.name] = DirectionSlots(outs.add(out0), part, d.label == "backward", init_i)
            elif layer.return_sequences and layer.merge_mode is None:
                k = 0 if d.label == "forward" else 1
                seq = site.node.output_tensors[k]
                dirs[d.name] = DirectionSlots(outs.add(seq), None, d.label == "backward", init_i)
            else:
                twin = _twin(d.layer, twins)
                seq = twin(x, mask=mask, initial_state=inits[d.label] or None)
                dirs[d.name] = DirectionSlots(outs.add(seq), None, False, init_i)
    else:
        (d,) = site.directions
        init_i = [outs.add(t) for t in init]
        if layer.return_sequences:
            seq = site.node.output_tensors[0]
        else:
            twin = _twin(layer, twins)
            seq = twin(x, mask=mask, initial_state=init or None)
        dirs[d.name] = DirectionSlots(outs.add(seq), None, False, init_i)
    return SiteSlots(site=site, x=x_i, mask=mask_i, directions=dirs)


def build_plan(model: Any) -> Plan:
    """Build the capture sub-model for ``model`` (raises clear errors for unsupported models)."""
    graph = functional_graph(model)
    outs = _Outputs()
    twins: list[tuple[Any, Any]] = []
    slots = _collect(graph, outs, twins)
    if not slots:
        names = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in graph.layers)
        raise ValueError(
            f"model {model.name!r} has no recurrent layer to probe (layers: {names}). "
            "lstmviz-widget explores LSTM, GRU, SimpleRNN and Bidirectional layers."
        )
    sub = keras.Model(graph.inputs, outs.tensors, name=f"lstmviz_capture_{model.name}")
    return Plan(model=sub, slots=slots, twins=twins)


_PLANS: dict[int, tuple[weakref.ref, Plan]] = {}
_MAX_PLANS = 8


def plan_for(model: Any) -> Plan:
    """The cached plan of ``model`` (built on first use; repeated captures reuse its graph)."""
    hit = _PLANS.get(id(model))
    if hit is not None and hit[0]() is model:
        return hit[1]
    plan = build_plan(model)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[id(model)] = (weakref.ref(model), plan)
    return plan
