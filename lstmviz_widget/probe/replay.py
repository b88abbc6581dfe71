"""Vectorised replay of LSTM / GRU / SimpleRNN cells from their own weights (numpy only).

Given a layer's input sequence X and the hidden sequence Keras produced, every gate
pre-activation follows from one matrix product over all timesteps; only the LSTM cell state
needs the elementwise recurrence ``c_t = f_t·c_{t-1} + i_t·g_t``. The replayed hidden state is
compared with Keras's own output: that residual is the capture's fidelity.

Arrays here are in *processing* order (reversed for ``go_backwards``); the caller flips them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Activation = Callable[[np.ndarray], np.ndarray]
"""Applies an activation to an array, in place where it can, and returns the result."""

#: Bytes of gate pre-activations computed at once (per time chunk).
CHUNK_BYTES = 64 * 2**20


def _sigmoid(a: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        np.negative(a, out=a)
        np.exp(a, out=a)
        a += 1.0
        np.reciprocal(a, out=a)
    return a


def _hard_sigmoid(a: np.ndarray) -> np.ndarray:  # Keras 3: relu6(x + 3) / 6
    a += 3.0
    np.clip(a, 0.0, 6.0, out=a)
    a /= 6.0
    return a


def _softsign(a: np.ndarray) -> np.ndarray:
    np.divide(a, 1.0 + np.abs(a), out=a)
    return a


#: numpy twins of the Keras activations most recurrent layers use, keyed by Keras's name.
NUMPY_ACTIVATIONS: dict[str, Activation] = {
    "tanh": lambda a: np.tanh(a, out=a),
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
    "relu": lambda a: np.maximum(a, 0.0, out=a),
    "linear": lambda a: a,
    "softsign": _softsign,
    "relu6": lambda a: np.clip(a, 0.0, 6.0, out=a),
}


@dataclass
class CellWeights:
    """A cell's weights: kernel (D, G·U), recurrent kernel (U, G·U), optional bias."""

    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray | None  # LSTM/SimpleRNN (G·U,); GRU reset_after (2, 3U); else (3U,)


@dataclass
class Replay:
    """Replay result in processing order."""

    h: np.ndarray  # (B, T, U) state after each step, carried over on masked steps
    c: np.ndarray | None
    gates: dict[str, np.ndarray]
    fidelity: float  # max |h_replayed - h_keras| over processed steps
    scale: float  # max |h_keras| over processed steps (for a relative check)


def carried_state(out: np.ndarray, mask: np.ndarray | None, h0: np.ndarray) -> np.ndarray:
    """The state after each step: Keras's output at processed steps, carried over elsewhere."""
    if mask is None or mask.all():
        return out
    b, t, _ = out.shape
    last = np.where(mask, np.arange(t)[None, :], -1)
    np.maximum.accumulate(last, axis=1, out=last)
    state = out[np.arange(b)[:, None], np.maximum(last, 0)]
    never = last < 0
    if never.any():
        state[never] = np.broadcast_to(h0[:, None, :], out.shape)[never]
    return state


def _previous(h: np.ndarray, h0: np.ndarray, sl: slice) -> np.ndarray:
    """H_prev for the steps in ``sl``: the state entering each step, (B, len, U)."""
    if sl.start > 0:
        return h[:, sl.start - 1 : sl.stop - 1]
    return np.concatenate([h0[:, None], h[:, : sl.stop - 1]], axis=1)


def _mm(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a @ w`` for (B, T, K) ``a`` as one 2-D GEMM (numpy's batched 3-D matmul is far slower)."""
    flat = np.ascontiguousarray(a).reshape(-1, a.shape[-1])
    return (flat @ w).reshape(*a.shape[:-1], w.shape[-1])


def _chunks(b: int, t: int, width: int):
    step = max(1, CHUNK_BYTES // max(1, b * width * 4))
    for start in range(0, t, step):
        yield slice(start, min(t, start + step))


def _nanmax(a: np.ndarray) -> float:
    """max ignoring NaN; NaN (no warning) when everything is NaN, e.g. a model with NaN weights."""
    return float(np.fmax.reduce(a, axis=None)) if a.size else 0.0


def _residual(h_rep: np.ndarray, h_out: np.ndarray, mask: np.ndarray | None) -> tuple[float, float]:
    """(max |h_rep - h_out|, max |h_out|) over processed steps; overwrites ``h_rep``."""
    np.subtract(h_rep, h_out, out=h_rep)
    np.abs(h_rep, out=h_rep)
    if mask is None:
        return _nanmax(h_rep), _nanmax(np.abs(h_out))
    if not mask.any():
        return 0.0, 0.0
    return _nanmax(h_rep[mask]), _nanmax(np.abs(h_out[mask]))


def replay(
    kind: str,
    x: np.ndarray,
    out: np.ndarray,
    weights: CellWeights,
    act: Activation,
    rec_act: Activation,
    *,
    mask: np.ndarray | None = None,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    reset_after: bool = True,
) -> Replay:
    """Recompute a layer's gates and states from its input ``x`` (B, T, D) and output ``out``.

    ``out`` is the layer's full output sequence (B, T, U) in processing order; only its values
    at processed (unmasked) steps are used.
    """
    b = x.shape[0]
    u = out.shape[-1]
    h0 = np.zeros((b, u), np.float32) if h0 is None else np.asarray(h0, np.float32)
    h = carried_state(out, mask, h0)
    if kind == "LSTM":
        return _replay_lstm(x, h, h0, weights, act, rec_act, mask, c0)
    if kind == "GRU":
        return _replay_gru(x, h, h0, weights, act, rec_act, mask, reset_after)
    if kind == "SimpleRNN":
        return _replay_simple(x, h, h0, weights, act, mask)
    raise NotImplementedError(f"no replay for cell kind {kind!r}")


def _time_major(a: np.ndarray) -> np.ndarray:
    """(B, n, K) → contiguous (n, B, K)."""
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def _replay_lstm(x, h, h0, w, act, rec_act, mask, c0) -> Replay:
    """LSTM replay in time-major buffers: z for all steps lives in one (T, B, 4U) array whose
    slices are the gates (views, no copies), and each step of the c recurrence reads and
    writes contiguous (B, U) blocks."""
    b, t, _ = x.shape
    u = h.shape[-1]
    z_all = np.empty((t, b, 4 * u), np.float32)
    c = np.empty((t, b, u), np.float32)
    c_prev = np.zeros((b, u), np.float32) if c0 is None else np.array(c0, np.float32)
    tmp = np.empty((b, u), np.float32)
    for sl in _chunks(b, t, 4 * u):
        z = z_all[sl]
        flat = z.reshape(-1, 4 * u)
        np.matmul(_time_major(x[:, sl]).reshape(-1, x.shape[-1]), w.kernel, out=flat)
        flat += _time_major(_previous(h, h0, sl)).reshape(-1, u) @ w.recurrent_kernel
        if w.bias is not None:
            z += w.bias
        i = rec_act(z[..., :u])
        f = rec_act(z[..., u : 2 * u])
        g = act(z[..., 2 * u : 3 * u])
        rec_act(z[..., 3 * u :])
        m = None if mask is None else mask[:, sl]
        for k in range(sl.stop - sl.start):
            # c_t = f·c_{t-1} + i·g, carried over unchanged on masked steps
            c_t = c[sl.start + k]
            np.multiply(f[k], c_prev, out=c_t)
            np.multiply(i[k], g[k], out=tmp)
            c_t += tmp
            if m is not None and not m[:, k].all():
                skip = ~m[:, k]
                c_t[skip] = c_prev[skip]
            c_prev = c_t
    gates = {
        name: z_all[..., k * u : (k + 1) * u].transpose(1, 0, 2)
        for k, name in enumerate(("input", "forget", "cell", "output"))
    }
    c_bt = c.transpose(1, 0, 2)
    # h_t = o_t · act(c_t), checked against Keras's own h
    worst, scale = 0.0, 0.0
    for sl in _chunks(b, t, u):
        h_rep = act(np.array(c_bt[:, sl]))
        h_rep *= gates["output"][:, sl]
        m = None if mask is None else mask[:, sl]
        e, s = _residual(h_rep, h[:, sl], m)
        worst, scale = max(worst, e), max(scale, s)
    return Replay(h=h, c=c_bt, gates=gates, fidelity=worst, scale=scale)


def _replay_gru(x, h, h0, w, act, rec_act, mask, reset_after) -> Replay:
    b, t, _ = x.shape
    u = h.shape[-1]
    names = ("update", "reset", "candidate")
    gates = {name: np.empty((b, t, u), np.float32) for name in names}
    if w.bias is None:
        in_bias = rec_bias = None
    elif reset_after:
        in_bias, rec_bias = w.bias[0], w.bias[1]
    else:
        in_bias, rec_bias = w.bias, None
    worst, scale = 0.0, 0.0
    for sl in _chunks(b, t, 3 * u):
        xz = _mm(x[:, sl], w.kernel)
        if in_bias is not None:
            xz += in_bias
        hp = _previous(h, h0, sl)
        if reset_after:
            rz = _mm(hp, w.recurrent_kernel)
            if rec_bias is not None:
                rz += rec_bias
            z = rec_act(xz[..., :u] + rz[..., :u])
            r = rec_act(xz[..., u : 2 * u] + rz[..., u : 2 * u])
            hh = act(xz[..., 2 * u :] + r * rz[..., 2 * u :])
        else:
            rz = _mm(hp, w.recurrent_kernel[:, : 2 * u])
            z = rec_act(xz[..., :u] + rz[..., :u])
            r = rec_act(xz[..., u : 2 * u] + rz[..., u:])
            hh = act(xz[..., 2 * u :] + _mm(r * hp, w.recurrent_kernel[:, 2 * u :]))
        gates["update"][:, sl], gates["reset"][:, sl], gates["candidate"][:, sl] = z, r, hh
        h_rep = z * hp + (1.0 - z) * hh
        e, s = _residual(h_rep, h[:, sl], None if mask is None else mask[:, sl])
        worst, scale = max(worst, e), max(scale, s)
    return Replay(h=h, c=None, gates=gates, fidelity=worst, scale=scale)


def _replay_simple(x, h, h0, w, act, mask) -> Replay:
    b, t, _ = x.shape
    u = h.shape[-1]
    worst, scale = 0.0, 0.0
    for sl in _chunks(b, t, u):
        z = _mm(x[:, sl], w.kernel)
        if w.bias is not None:
            z += w.bias
        z += _mm(_previous(h, h0, sl), w.recurrent_kernel)
        h_rep = act(z)
        e, s = _residual(h_rep, h[:, sl], None if mask is None else mask[:, sl])
        worst, scale = max(worst, e), max(scale, s)
    return Replay(h=h, c=None, gates={}, fidelity=worst, scale=scale)
