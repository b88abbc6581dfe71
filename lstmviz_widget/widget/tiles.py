"""Tiles on demand (issue 13): a min/max pyramid along time, served 512 buckets at a time.

Every array the views draw over time is a *key* shaped (B, T, W) (``"<layer>|h"``,
``"<layer>|gate:<g>"``, ``"<layer>|norm:<q>"``, ``"|confidence"``, ``"|predicted"``,
``"|mispredicted"``, ``"|saliency"``,
``"|input"``). Level k splits time into buckets of 2^k steps and keeps, per bucket and per
column w, the min and the max (NaN wins, ±Inf survive); level 0 is the data itself. A tile
is 512 consecutive buckets of one level of one sample, all W columns. Levels 1–3 are cut
from the raw array per request (a tile reads ≤ 4096 steps); levels ≥ 4 are built once per
(key, sample) when first asked for (level 4 from the raw array, each next one from the
previous) and kept (up to 1 GiB, least recently used dropped). Nothing here copies a whole
capture array: the source holds references to the Capture's arrays.
Protocol: docs/widget-contract.md ("Tiled `_data`").
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..data import Capture
from .pyramid import (  # re-exported: the level maths are part of this module's interface
    TILE_STEPS,
    bins,
    coarser,
    encode_level0,
    encode_scaled,
    initial_level,
    max_level,
    n_buckets,
    n_tiles,
    tile_scale,
)
from .series import layer_series, trajectory_spec

__all__ = ["TILE_STEPS", "TileSource", "bins", "coarser", "encode_level0", "encode_scaled",
           "initial_level", "max_level", "n_buckets", "n_tiles", "tile_scale"]  # fmt: skip

#: First level built once per (key, sample) and cached; below it tiles are cut from raw.
CACHED_FROM = 4
#: Most tiles one request may ask for.
MAX_REQUEST = 64
#: Custom message type of requests and replies.
MESSAGE_TYPE = "lstmviz-tiles"
#: Numeric input features drawn (the first ones), as in the untiled payload.
MAX_INPUT_FEATURES = 8
#: Bytes of cached pyramids kept (least recently used (key, sample) dropped first; the one
#: in use always stays). At 1,000,000 × 256 one pyramid (levels ≥ 4, float32) is ≈ 256 MB.
CACHE_BYTES = 1 << 30


def _quietly(fn: Callable[[], Any]) -> Any:
    """Run background work without numpy's floating-point warnings: from a thread they would
    print into whichever notebook cell happens to run (errstate is per thread)."""
    with np.errstate(all="ignore"):
        return fn()


class TileSource:
    """The keys of one capture and their tiles. Holds references to the capture's arrays."""

    def __init__(self, cap: Capture) -> None:
        self.n_steps = int(cap.n_steps)
        self.n_samples = int(cap.n_samples)
        self.max_level = max_level(self.n_steps)
        self._arrays: dict[str, np.ndarray] = {}
        self._norm_of: dict[str, np.ndarray] = {}  # norm keys: the gradient they are of
        # derived series keys "<layer>|series:<name>": (labels, compute), computed on first use
        self._series: dict[str, tuple[list[str], Callable[[], np.ndarray]]] = {}
        for lc in cap:
            for name, spec in layer_series(lc).items():
                self._series[f"{lc.name}|series:{name}"] = spec
            self._series[f"{lc.name}|pca"] = trajectory_spec(lc)
            self._arrays[f"{lc.name}|h"] = lc.h
            if lc.c is not None:
                self._arrays[f"{lc.name}|c"] = lc.c
            for g, a in lc.gates.items():
                self._arrays[f"{lc.name}|gate:{g}"] = a
            grads: dict[str, np.ndarray | None] = {"h": lc.grad_h, "c": lc.grad_c}
            grads.update({f"gate:{g}": a for g, a in lc.grad_gates.items()})
            for q, ga in grads.items():
                if ga is not None:
                    self._norm_of[f"{lc.name}|norm:{q}"] = ga
        p = cap.predictions
        if p is not None and p.confidence is not None:
            self._arrays["|confidence"] = p.confidence[..., None]
        # per-step class ids and 0/1 mistakes: (B, T) each, small, as float32 columns
        if p is not None and p.predicted is not None:
            self._arrays["|predicted"] = np.asarray(p.predicted, np.float32)[..., None]
        if p is not None and p.mispredicted is not None:
            self._arrays["|mispredicted"] = np.asarray(p.mispredicted, np.float32)[..., None]
        if cap.saliency is not None:
            self._arrays["|saliency"] = cap.saliency[..., None]
        first = next(iter(cap))
        if cap.tokens is None and first.inputs.ndim == 3 and first.inputs.shape[-1] > 0:
            self._arrays["|input"] = first.inputs[..., :MAX_INPUT_FEATURES]
        self._cache: OrderedDict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: dict[tuple[Any, ...], Future[Any]] = {}

    # -- keys ---------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """Every key, arrays first, then gradient norms."""
        return [*self._arrays, *self._norm_of, *(k for k in self._series if k not in self._arrays)]

    def __contains__(self, key: object) -> bool:
        return key in self._arrays or key in self._norm_of or key in self._series

    def width(self, key: str) -> int:
        """W of a key."""
        if key in self._norm_of:
            return 1
        if key in self._series:
            return len(self._series[key][0])
        return int(self._arrays[key].shape[-1])

    def labels(self, key: str) -> list[str]:
        """Column labels of a derived series key."""
        return list(self._series[key][0])

    def shape(self, key: str) -> list[int]:
        """[B, T, W] as the payload announces it."""
        return [self.n_samples, self.n_steps, self.width(key)]

    def _materialize(self, key: str) -> None:
        """Compute a derived key (gradient norm, series, PCA) once; blocking."""
        if key in self._arrays:
            return
        if key in self._series:
            self._arrays[key] = self._series[key][1]()
        else:
            g = self._norm_of[key]
            n = np.sqrt(np.einsum("btu,btu->bt", g, g, dtype=np.float64)).astype(np.float32)
            self._arrays[key] = n[..., None]

    def _background(self, job: tuple[Any, ...], fn: Callable[[], Any]) -> None:
        """Run ``fn`` once on the source's one background thread (numpy releases the GIL in
        its reductions, so the kernel keeps answering meanwhile)."""
        with self._lock:
            if job in self._jobs and not self._jobs[job].done():
                return  # running or queued (a finished one runs again: an evicted pyramid)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmviz-tiles")
            self._jobs[job] = self._pool.submit(_quietly, fn)

    def settle(self) -> None:
        """Wait for the background work started so far (tests; save_html needs none)."""
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.result()

    def ready(self, key: str) -> bool:
        """Whether a key's values exist; a derived one that does not is started in the
        background (a request for it is answered "pending" meanwhile, never blocked on)."""
        if key in self._arrays:
            return True
        job = self._jobs.get(("key", key))
        if job is None:
            self._background(("key", key), lambda: self._materialize(key))
            return False
        if not job.done():
            return False
        job.result()  # re-raise what the computation raised
        return True

    def raw(self, key: str, sample: int) -> np.ndarray:
        """One sample of a key as (T_key, W) (a view; derived keys computed once)."""
        self._materialize(key)
        out: np.ndarray = self._arrays[key][sample]
        return out

    def window(self, key: str, sample: int, start: int, stop: int) -> np.ndarray:
        """Steps [start, stop) of one sample, zero beyond a shorter layer's end (as the untiled
        payload pads a decoder shorter than its encoder)."""
        x = self.raw(key, sample)
        if stop <= x.shape[0]:
            return x[start:stop]
        out = np.zeros((stop - start, x.shape[1]), np.float32)
        if start < x.shape[0]:
            out[: x.shape[0] - start] = x[start:]
        return out

    # -- levels -------------------------------------------------------------------------
    def level_bins(self, key: str, sample: int, level: int) -> tuple[np.ndarray, np.ndarray]:
        """All buckets of one level, straight from the raw array (not cached)."""
        x = self.window(key, sample, 0, self.n_steps)
        if level == 0:
            return x, x
        return bins(x, 1 << level)

    def _pyramid(self, key: str, sample: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Levels CACHED_FROM … K of one (key, sample), built on first use and kept."""
        got = self._cached(key, sample)
        if got is not None:
            return got
        levels = [self.level_bins(key, sample, CACHED_FROM)]
        for _ in range(CACHED_FROM + 1, self.max_level + 1):
            levels.append(coarser(*levels[-1]))
        with self._lock:
            self._cache[(key, sample)] = levels
            while len(self._cache) > 1 and self.cached_bytes > CACHE_BYTES:
                self._cache.popitem(last=False)
        return levels

    def _cached(self, key: str, sample: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
        with self._lock:
            got = self._cache.get((key, sample))
            if got is not None:
                self._cache.move_to_end((key, sample))
            return got

    @property
    def cached_bytes(self) -> int:
        """Bytes held by the cached pyramids."""
        return sum(lo.nbytes + hi.nbytes for lv in self._cache.values() for lo, hi in lv)

    def tile_bins(
        self, key: str, sample: int, level: int, index: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(lo, hi) of one tile; hi is None at level 0 (lo is then the exact data)."""
        b0 = index * TILE_STEPS
        b1 = min(b0 + TILE_STEPS, n_buckets(self.n_steps, level))
        if level == 0:
            return self.window(key, sample, b0, b1), None
        if level < CACHED_FROM:
            s = 1 << level
            x = self.window(key, sample, b0 * s, min(b1 * s, self.n_steps))
            return bins(x, s)
        levels = self._cached(key, sample)
        if levels is None:
            # not built yet: this tile straight from the raw steps (≤ 512·2^level of them) and
            # the pyramid in the background, so no request waits for a whole key's pyramid
            self._background(("pyramid", key, sample), lambda: self._pyramid(key, sample))
            s = 1 << level
            x = self.window(key, sample, b0 * s, min(b1 * s, self.n_steps))
            return bins(x, s)
        lo, hi = levels[level - CACHED_FROM]
        return lo[b0:b1], hi[b0:b1]

    # -- tiles --------------------------------------------------------------------------
    def check(self, key: Any, sample: Any, level: Any, index: Any) -> str | None:
        """Why (key, sample, level, index) names no tile, or None when it does."""
        if not isinstance(key, str) or key not in self:
            return f"unknown key {key!r}"
        ints = (sample, level, index)
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in ints):
            return "sample, level and index must be integers"
        sample, level, index = (int(v) for v in ints)
        if not 0 <= sample < self.n_samples:
            return f"sample {sample} out of range [0, {self.n_samples - 1}]"
        if not 0 <= level <= self.max_level:
            return f"level {level} out of range [0, {self.max_level}]"
        n = n_tiles(self.n_steps, level)
        if not 0 <= index < n:
            return f"index {index} out of range [0, {n - 1}] at level {level}"
        return None

    def tile(self, key: str, sample: int, level: int, index: int) -> dict[str, Any]:
        """One tile as in ``_data.initial_tiles`` (EncodedArray lo/hi)."""
        lo, hi = self.tile_bins(key, sample, level, index)
        return self.encode(key, sample, level, index, lo, hi)

    def encode(
        self,
        key: str,
        sample: int,
        level: int,
        index: int,
        lo: np.ndarray,
        hi: np.ndarray | None,
    ) -> dict[str, Any]:
        """A tile dict from its bins: level 0 exact float32, else float16 with one scale."""
        start = index * TILE_STEPS << level
        stop = min(start + (TILE_STEPS << level), self.n_steps)
        out: dict[str, Any] = {"key": key, "sample": sample, "level": level, "index": index,
                               "start": start, "stop": stop, "n": int(lo.shape[0]),
                               "width": int(lo.shape[1])}  # fmt: skip
        if hi is None:
            out["lo"], out["hi"] = encode_level0(lo), None
        else:
            s = tile_scale(lo, hi)
            out["lo"], out["hi"] = encode_scaled(lo, s), encode_scaled(hi, s)
        return out

    def level_tiles(
        self, key: str, sample: int, level: int, lo: np.ndarray, hi: np.ndarray
    ) -> list[dict[str, Any]]:
        """Every tile of one level from that level's bins (level 0: hi ignored)."""
        return [
            self.encode(
                key, sample, level, i,
                lo[i * TILE_STEPS : (i + 1) * TILE_STEPS],
                None if level == 0 else hi[i * TILE_STEPS : (i + 1) * TILE_STEPS],
            )
            for i in range(n_tiles(self.n_steps, level))
        ]  # fmt: skip

    def initial_tiles(
        self, layer: str, quantity: str, sample: int = 0, timestep: int = 0
    ) -> list[dict[str, Any]]:
        """What the first payload carries: level k0 of the shown key, of its gradient norm,
        of confidence, saliency and input (shown sample), plus the level-0 tile holding the
        cursor step of the shown key."""
        k0 = initial_level(self.n_steps)
        shown = f"{layer}|{quantity}"
        keys = [shown, f"{layer}|norm:{quantity}", "|confidence", "|saliency", "|input"]
        out = []
        for key in keys:
            if key in self:
                out += self.level_tiles(key, sample, k0, *self.level_bins(key, sample, k0))
        if k0 > 0 and shown in self:
            t = min(max(int(timestep), 0), self.n_steps - 1)
            out.append(self.tile(shown, sample, 0, t // TILE_STEPS))
        return out

    def answer(self, content: Any) -> tuple[dict[str, Any], list[memoryview]]:
        """The reply to one ``{"type": "lstmviz-tiles", "id", "tiles"}`` request: (content,
        buffers). Invalid entries are skipped and named in ``error``; valid ones answered."""
        rid = content.get("id") if isinstance(content, dict) else None
        entries = content.get("tiles") if isinstance(content, dict) else None
        errors: list[str] = []
        tiles: list[dict[str, Any]] = []
        pending: list[list[Any]] = []  # derived keys still being computed: ask again
        buffers: list[memoryview] = []
        if not isinstance(entries, list):
            errors.append("'tiles' must be a list of [key, sample, level, index]")
            entries = []
        if len(entries) > MAX_REQUEST:
            errors.append(f"at most {MAX_REQUEST} tiles per request: {len(entries)} asked, "
                          f"the last {len(entries) - MAX_REQUEST} left out")  # fmt: skip
            entries = entries[:MAX_REQUEST]
        for entry in entries:
            why = (
                self.check(*entry)
                if isinstance(entry, (list, tuple)) and len(entry) == 4
                else "expected [key, sample, level, index]"
            )
            if why is not None:
                errors.append(f"tile {entry!r}: {why}")
                continue
            if not self.ready(entry[0]):
                pending.append(list(entry))
                continue
            tile = self.tile(*entry)
            for side in ("lo", "hi"):
                arr = tile[side]
                if arr is not None:
                    buffers.append(arr.pop("data"))
                    arr["buffer"] = len(buffers) - 1
            tiles.append(tile)
        reply = {"type": MESSAGE_TYPE, "id": rid, "error": "; ".join(errors) or None,
                 "tiles": tiles, "pending": pending}  # fmt: skip
        return reply, buffers

    # -- offline (save_html) --------------------------------------------------------------
    def level_bytes(self, level: int) -> int:
        """Bytes of one level over every key and sample, as embedded (base64 of lo and hi)."""
        total = 0
        for key in self.keys:
            w = self.width(key)
            for i in range(n_tiles(self.n_steps, level)):
                n = min(TILE_STEPS, n_buckets(self.n_steps, level) - i * TILE_STEPS)
                raw = [n * w * 4] if level == 0 else [n * w * 2, n * w * 2]
                total += sum(4 * math.ceil(r / 3) for r in raw)
        return total * self.n_samples

    def offline_levels(self, budget: int) -> int:
        """The finest level L such that levels L … K of every key and sample fit ``budget``
        bytes (base64, as the page holds them); K when not even the coarsest fits."""
        total, level = 0, self.max_level
        for k in range(self.max_level, -1, -1):
            total += self.level_bytes(k)
            if total > budget:
                break
            level = k
        return level

    def offline_tiles(self, finest: int) -> list[dict[str, Any]]:
        """Every tile of levels ``finest`` … K of every key and sample (each level from the one
        below it, the finest from the raw array)."""
        out = []
        for key in self.keys:
            for b in range(self.n_samples):
                lo, hi = self.level_bins(key, b, finest)
                for k in range(finest, self.max_level + 1):
                    if k > finest:
                        lo, hi = coarser(lo, hi)
                    out += self.level_tiles(key, b, k, lo, hi)
        return out
