"""The unit orders and the memory flow have one definition, shared with the explorer.

tests/fixtures/ordering.json (written by tests/fixtures/make_ordering.py from a small
capture, with a NaN, an infinity and a tie added) holds the orders, scores and memory-flow
lines; js/ordering-shared.test.ts asserts that js/math/ordering.ts and js/math/flow.ts give the
same.
Here: lstmviz_widget.analysis gives them too, and they equal a direct computation with
Python loops that follows the documented definitions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from lstmviz_widget.analysis import mask_from_lengths, memory_flow, unit_order
from lstmviz_widget.data import LayerCapture

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "ordering.json").read_text())
T = FIXTURE["n_steps"]
B = FIXTURE["n_samples"]


def _values(flat: list) -> np.ndarray:
    return np.array([float(v) for v in flat])


def _layer(spec: dict) -> LayerCapture:
    arrays = {
        k: _values(v).astype(np.float32).reshape(B, T, spec["units"])
        for k, v in spec["arrays"].items()
    }
    gates = {k[len("gate:") :]: v for k, v in arrays.items() if k.startswith("gate:")}
    return LayerCapture(
        spec["name"],
        spec["kind"],
        arrays["h"],
        np.zeros((B, T, 1), np.float32),
        0.0,
        c=arrays.get("c"),
        gates=gates,
        mask=mask_from_lengths(spec["lengths"], T),
    )


LAYERS = {spec["name"]: _layer(spec) for spec in FIXTURE["layers"]}
LENGTHS = {spec["name"]: spec["lengths"] for spec in FIXTURE["layers"]}


def _case_id(case: dict) -> str:
    extra = case["brush"] if case["mode"] == "brush" else case["timestep"]
    return f"{case['layer']}-{case['quantity']}-s{case['sample']}-{case['mode']}-{extra}"


def _array(lc: LayerCapture, quantity: str) -> np.ndarray:
    if quantity.startswith("gate:"):
        return lc.gates[quantity[len("gate:") :]]
    return lc.h if quantity == "h" else lc.c


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _loop_score(case: dict) -> list[float] | None:
    """The documented definitions, one unit and one step at a time (float64)."""
    lc = LAYERS[case["layer"]]
    x = _array(lc, case["quantity"]).astype(np.float64)
    b, n = case["sample"], LENGTHS[case["layer"]][case["sample"]]
    units = range(x.shape[-1])

    def finite(u: int, t0: int, t1: int) -> list[float]:
        return [float(x[b, t, u]) for t in range(t0, t1) if math.isfinite(x[b, t, u])]

    if case["mode"] == "variance":
        out = []
        for u in units:
            vals = finite(u, 0, n)
            m = _mean(vals)
            out.append(sum((v - m) ** 2 for v in vals) / len(vals) if vals else math.nan)
        return out
    if case["mode"] == "activation":
        t = case["timestep"]
        return [abs(float(x[b, t, u])) if math.isfinite(x[b, t, u]) else math.nan for u in units]
    if case["mode"] == "brush" and case["brush"] is not None:
        a = min(max(case["brush"][0], 0), n)
        e = max(a, min(case["brush"][1], n))
        return [_mean(finite(u, a, e)) - _mean(finite(u, 0, a) + finite(u, e, n)) for u in units]
    return None  # natural


def _selection_order(score: list[float] | None, n: int) -> list[int]:
    """Largest first by repeated selection; NaN last; ties by unit id."""
    if score is None:
        return list(range(n))
    left, out = list(range(n)), []
    while left:
        best = left[0]
        for u in left[1:]:
            a, s = score[u], score[best]
            if (math.isnan(s) and not math.isnan(a)) or (not math.isnan(a) and a > s):
                best = u
        out.append(best)
        left.remove(best)
    return out


def test_the_fixture_covers_every_mode_and_rule():
    modes = {c["mode"] for c in FIXTURE["orders"]}
    assert modes == {"natural", "variance", "activation", "brush"}
    assert len(FIXTURE["orders"]) >= 100
    assert any(c["score"] and "NaN" in c["score"] for c in FIXTURE["orders"])
    assert {f["layer"] for f in FIXTURE["flows"]} == {"lstm", "gru"}
    assert any(f["bad"] for f in FIXTURE["flows"])


@pytest.mark.parametrize("case", FIXTURE["orders"], ids=_case_id)
def test_unit_order_gives_the_fixture_and_the_definition(case):
    lc = LAYERS[case["layer"]]
    brush = None if case["brush"] is None else tuple(case["brush"])
    got = unit_order(
        lc,
        case["mode"],
        sample=case["sample"],
        timestep=case["timestep"],
        brush=brush,
        state=case["quantity"],
    )
    assert got.order.tolist() == case["order"]
    want = _loop_score(case)
    if want is None:
        assert case["score"] is None
        assert got.score is None
        return
    np.testing.assert_allclose(got.score, _values(case["score"]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.score, want, rtol=1e-9, atol=1e-12)
    assert case["order"] == _selection_order(want, lc.units)


@pytest.mark.parametrize("flow", FIXTURE["flows"], ids=lambda f: f"{f['layer']}-s{f['sample']}")
def test_memory_flow_lines_give_the_fixture_and_the_definition(flow):
    lc = LAYERS[flow["layer"]]
    b, n = flow["sample"], LENGTHS[flow["layer"]][flow["sample"]]
    carried, written = memory_flow(lc).step_means()
    np.testing.assert_allclose(carried[b], _values(flow["carried"]), rtol=1e-12)
    np.testing.assert_allclose(written[b], _values(flow["written"]), rtol=1e-12)
    # the definition: written = i·g (LSTM) or (1 − z)·h̃ (GRU), 0 past the sample's length;
    # carried = state − written; means of |·| over the units where both are finite
    g = {k: v.astype(np.float64) for k, v in lc.gates.items()}
    bad = []
    for t in range(T):
        cs, ws = [], []
        for u in range(lc.units):
            if t >= n:
                w = 0.0
            elif lc.kind == "LSTM":
                w = g["input"][b, t, u] * g["cell"][b, t, u]
            else:
                w = (1 - g["update"][b, t, u]) * g["candidate"][b, t, u]
            state = float((lc.c if lc.kind == "LSTM" else lc.h)[b, t, u])
            c = state - w
            if math.isfinite(c) and math.isfinite(w):
                cs.append(abs(c))
                ws.append(abs(w))
        if len(cs) < lc.units:
            bad.append(t)
        # the flow's arrays are float32, as the state: agreement to float32 rounding
        assert carried[b, t] == pytest.approx(_mean(cs) if cs else math.nan, rel=1e-6, nan_ok=True)
        assert written[b, t] == pytest.approx(_mean(ws) if ws else math.nan, rel=1e-6, nan_ok=True)
    assert bad == flow["bad"]
