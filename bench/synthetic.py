"""Synthetic captures for the frontend benchmark: a real LSTM run in numpy, no Keras.

``synthetic_capture(units=512, steps=2000)`` returns a :class:`lstmviz_widget.data.Capture`
whose every field is filled, so every view of the explorer has something to draw:

- an LSTM layer with random weights (Keras layout: gates ``input, forget, cell, output``,
  ``kernel`` (D, 4U), ``recurrent_kernel`` (U, 4U), ``bias`` (4U,)) run over a smooth random
  input: gates are the sigmoid/tanh of the true pre-activations, ``c_t = f·c_{t-1} + i·g``,
  ``h_t = o·tanh(c_t)``;
- per-step predictions of a softmax readout of h_t (3 classes) against smooth labels, with
  confidence and mispredictions;
- exact gradients of the summed per-step cross-entropy by back-propagation through time:
  ∂L/∂h_t, ∂L/∂c_t, ∂L/∂(gate pre-activations), ∂L/∂weights, and saliency (gradient × input);
- one single-head dot-product attention of the hidden states over themselves (B, 1, T, T),
  unless ``attention=False`` (T = 100,000 would need 40 GB);
- a mask (all steps valid) and lengths; no tokens (numeric input).

Run it to print a summary: ``python bench/synthetic.py [units] [steps]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lstmviz_widget.data import (  # noqa: E402
    AttentionCapture,
    Capture,
    LayerCapture,
    Predictions,
)

GATES = ("input", "forget", "cell", "output")
CLASSES = 3


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _smooth_noise(rng: np.random.Generator, steps: int, dim: int, width: float) -> np.ndarray:
    """(steps, dim) noise low-pass filtered over time (an exponential moving average)."""
    a = np.exp(-1.0 / width)
    x = rng.normal(size=(steps, dim)).astype(np.float32)
    # EMA by chunks of a geometric-weight convolution would be faster; a cumulative trick
    # keeps it vectorised: y_t = a·y_{t-1} + (1-a)·x_t, run over blocks of 256 steps.
    out = np.empty_like(x)
    y = np.zeros(dim, np.float32)
    block = 256
    powers = a ** np.arange(1, block + 1, dtype=np.float64)
    for s in range(0, steps, block):
        xb = x[s : s + block].astype(np.float64) * (1 - a)
        n = xb.shape[0]
        p = powers[:n]
        # y_{s+k} = a^{k+1} y + Σ_{j≤k} a^{k-j} xb_j  =  p_k·(y + Σ_{j≤k} xb_j / p_j)
        acc = np.cumsum(xb / p[:, None], axis=0)
        yb = p[:, None] * (y[None, :] + acc)
        out[s : s + n] = yb
        y = yb[-1].astype(np.float32)
    return out * np.sqrt(2 * width)  # roughly unit variance


def synthetic_capture(
    units: int = 512,
    steps: int = 2000,
    batch: int = 1,
    features: int = 32,
    *,
    attention: bool = True,
    seed: int = 0,
) -> Capture:
    """A consistent LSTM capture (states, gates, gradients, predictions, attention)."""
    rng = np.random.default_rng(seed)
    U, T, B, D = units, steps, batch, features
    f32 = np.float32

    # --- inputs: slow drifts, a few oscillations, spikes -------------------------------------
    x = np.empty((B, T, D), f32)
    tt = np.arange(T, dtype=f32)[:, None]
    for b in range(B):
        slow = _smooth_noise(rng, T, D, width=40.0)
        periods = rng.uniform(20, 400, size=D).astype(f32)
        phase = rng.uniform(0, 2 * np.pi, size=D).astype(f32)
        osc = np.sin(2 * np.pi * tt / periods + phase)
        spikes = (rng.random((T, D)) < 0.002) * rng.normal(0, 3, (T, D))
        x[b] = (0.7 * slow + 0.6 * osc + spikes).astype(f32)

    # --- weights (Keras layout, gate blocks i, f, c, o) ---------------------------------------
    kernel = rng.normal(0, 1.0 / np.sqrt(D), (D, 4 * U)).astype(f32)
    rec = rng.normal(0, 1.0 / np.sqrt(U), (U, 4 * U)).astype(f32)
    rec *= 0.9
    bias = np.zeros(4 * U, f32)
    bias[U : 2 * U] = rng.uniform(0.5, 3.0, U)  # forget bias: long and short memories
    bias[:U] = rng.normal(-0.5, 0.5, U)
    bias[3 * U :] = rng.normal(0.0, 0.5, U)
    # a few units that barely react (dead) and a few saturated ones, as real models have
    dead = rng.choice(U, size=max(1, U // 64), replace=False)
    kernel[:, 2 * U + dead] *= 0.01
    rec[:, 2 * U + dead] *= 0.01
    hot = rng.choice(U, size=max(1, U // 64), replace=False)
    bias[3 * U + hot] += 6.0

    # --- forward: z_t = x_t W + h_{t-1} R + b ------------------------------------------------
    xw = x @ kernel + bias  # (B, T, 4U)
    h = np.empty((B, T, U), f32)
    c = np.empty((B, T, U), f32)
    z = np.empty((B, T, 4 * U), f32)  # activated gates, in place of the pre-activations
    hp = np.zeros((B, U), f32)
    cp = np.zeros((B, U), f32)
    for t in range(T):
        zt = xw[:, t] + hp @ rec
        zt[:, : 2 * U] = _sigmoid(zt[:, : 2 * U])
        zt[:, 2 * U : 3 * U] = np.tanh(zt[:, 2 * U : 3 * U])
        zt[:, 3 * U :] = _sigmoid(zt[:, 3 * U :])
        cp = zt[:, U : 2 * U] * cp + zt[:, :U] * zt[:, 2 * U : 3 * U]
        hp = zt[:, 3 * U :] * np.tanh(cp)
        z[:, t] = zt
        c[:, t] = cp
        h[:, t] = hp
    del xw
    gi, gf, gg, go = (z[..., k * U : (k + 1) * U] for k in range(4))

    # --- per-step softmax readout, labels, predictions ---------------------------------------
    w_out = rng.normal(0, 2.0 / np.sqrt(U), (U, CLASSES)).astype(f32)
    logits = h @ w_out
    logits -= logits.max(-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(-1, keepdims=True)
    predicted = probs.argmax(-1).astype(np.int64)
    # labels: the prediction, flipped on ~20% of steps in runs (so mispredictions cluster)
    flip = _smooth_noise(rng, T, B, width=15.0).T > 0.85
    y = np.where(flip, (predicted + 1) % CLASSES, predicted)
    mispredicted = predicted != y
    confidence = probs.max(-1).astype(f32)

    # --- backward (BPTT of L = Σ_t CE(p_t, y_t)) ---------------------------------------------
    onehot = np.eye(CLASSES, dtype=f32)[y]
    direct = (probs - onehot) @ w_out.T  # ∂L/∂h_t through the readout only, (B, T, U)
    tanh_c = np.tanh(c)
    grad_h = np.empty_like(h)
    grad_c = np.empty_like(c)
    dz = np.empty_like(z)
    dz_next = np.zeros((B, 4 * U), f32)
    dc_next = np.zeros((B, U), f32)
    f_next = np.zeros((B, U), f32)
    rec_t = np.ascontiguousarray(rec.T)
    for t in range(T - 1, -1, -1):
        dh = direct[:, t] + dz_next @ rec_t
        it, ft, gt, ot = gi[:, t], gf[:, t], gg[:, t], go[:, t]
        tc = tanh_c[:, t]
        dc = dh * ot * (1 - tc * tc) + dc_next * f_next
        c_prev = c[:, t - 1] if t > 0 else np.zeros((B, U), f32)
        dzt = dz[:, t]
        dzt[:, :U] = dc * gt * it * (1 - it)
        dzt[:, U : 2 * U] = dc * c_prev * ft * (1 - ft)
        dzt[:, 2 * U : 3 * U] = dc * it * (1 - gt * gt)
        dzt[:, 3 * U :] = dh * tc * ot * (1 - ot)
        grad_h[:, t] = dh
        grad_c[:, t] = dc
        dz_next, dc_next, f_next = dzt, dc, ft
    del direct, tanh_c
    h_prev = np.concatenate([np.zeros((B, 1, U), f32), h[:, :-1]], axis=1)
    dz2 = dz.reshape(B * T, 4 * U)
    grad_kernel = x.reshape(B * T, D).T @ dz2
    grad_rec = h_prev.reshape(B * T, U).T @ dz2
    del h_prev
    grad_bias = dz2.sum(axis=0, dtype=f32)
    saliency = ((dz2 @ kernel.T) * x.reshape(B * T, D)).sum(-1).reshape(B, T)

    lc = LayerCapture(
        name="lstm",
        kind="LSTM",
        h=h,
        inputs=x,
        fidelity=1.2e-7,
        c=c,
        gates={g: np.ascontiguousarray(a) for g, a in zip(GATES, (gi, gf, gg, go), strict=True)},
        mask=np.ones((B, T), bool),
        activation="tanh",
        recurrent_activation="sigmoid",
        weights={"kernel": kernel, "recurrent_kernel": rec, "bias": bias},
        grad_h=grad_h,
        grad_c=grad_c,
        grad_gates={
            g: np.ascontiguousarray(dz[..., k * U : (k + 1) * U]) for k, g in enumerate(GATES)
        },
        grad_weights={"kernel": grad_kernel, "recurrent_kernel": grad_rec, "bias": grad_bias},
    )
    del z, dz
    att: dict[str, AttentionCapture] = {}
    if attention:
        # dot-product self-attention of the hidden states over all steps, one head
        scores = np.empty((B, 1, T, T), f32)
        for b in range(B):
            s = (h[b] @ h[b].T) * (1.0 / np.sqrt(U))
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            scores[b, 0] = s
        att["attention"] = AttentionCapture(
            name="attention",
            kind="Attention",
            scores=scores,
            query_source="lstm",
            key_source="lstm",
        )
    loss = float(-np.log(np.take_along_axis(probs, y[..., None], -1) + 1e-12).sum())
    return Capture(
        layers={"lstm": lc},
        lengths=np.full(B, T, np.int64),
        tokens=None,
        model_name=f"synthetic_lstm_{U}x{T}",
        attention=att,
        predictions=Predictions(
            mode="sequence",
            task="classification",
            values=probs.astype(f32),
            confidence=confidence,
            predicted=predicted,
            mispredicted=mispredicted,
            reason="synthetic: a softmax readout of h_t at every step",
            source_layer="lstm",
        ),
        saliency=saliency,
        loss=loss,
    )


def capture_nbytes(cap: Capture) -> int:
    """Bytes of every array the capture holds."""
    n = int(cap.lengths.nbytes) + (0 if cap.saliency is None else cap.saliency.nbytes)
    for lc in cap:
        n += sum(a.nbytes for a in lc._arrays().values())
    for a in cap.attention.values():
        n += a.scores.nbytes
    if cap.predictions is not None:
        for k in Predictions._ARRAYS:
            v = getattr(cap.predictions, k)
            n += 0 if v is None else v.nbytes
    return n


def main(argv: list[str]) -> int:
    units = int(argv[0]) if argv else 512
    steps = int(argv[1]) if len(argv) > 1 else 2000
    t0 = time.perf_counter()
    cap = synthetic_capture(units, steps, attention=steps <= 4000)
    dt = time.perf_counter() - t0
    lc = cap["lstm"]
    print(cap, f"built in {dt:.1f} s, {capture_nbytes(cap) / 2**20:.0f} MiB")
    for g, a in lc.gates.items():
        print(f"  gate {g:7s} range [{a.min():.3f}, {a.max():.3f}] mean {a.mean():.3f}")
    print(f"  h range [{lc.h.min():.3f}, {lc.h.max():.3f}]", end="")
    print(f"  c range [{lc.c.min():.2f}, {lc.c.max():.2f}]")
    print(
        f"  |grad_h| max {np.abs(lc.grad_h).max():.3g}  |grad_c| max {np.abs(lc.grad_c).max():.3g}"
    )
    p = cap.predictions
    print(f"  mispredicted {p.mispredicted.mean():.0%}  confidence mean {p.confidence.mean():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
