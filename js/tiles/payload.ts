/**
 * Decoding of a tiled `_data` (a long capture: `_data.tiling` is present). The arrays drawn over
 * time are not in the payload: each is a key whose tiles come from the kernel (client.ts).
 * Only the first payload's overview tiles (`initial_tiles`) travel with it.
 */
import type { HealthPayload } from "../model";
import { decodeTile, decodeTiling, type RawTile, type Tile, type TilingInfo } from "./types";

export interface TiledArray {
  key: string;
  /** Columns per step: units, features or 1. */
  width: number;
}

export interface TiledLayer {
  name: string;
  kind: string;
  units: number;
  direction: "forward" | "backward" | null;
  fidelity: number;
  lengths: number[];
  /** Quantity ("h", "c", "gate:<g>") → its tiles. "h" first. */
  arrays: Map<string, TiledArray>;
  /** Quantity → ‖∂L/∂q_t‖ per step (width 1); empty without gradients. */
  gradNorms: Map<string, TiledArray>;
  /** Derived per-step series drawn as line tracks ("gate means": one column per gate, the
   *  mean over units; "memory flow": written i⊙g and carried f⊙c_{t−1}, means over units). */
  series: Map<string, TiledArray & { labels: string[] }>;
  /** h on its first ≤ 3 principal components, per step (the trajectory card), or null. */
  trajectory: (TiledArray & { labels: string[] }) | null;
  health: HealthPayload | null;
}

export interface TiledPayload {
  tiled: true;
  modelName: string;
  nSamples: number;
  nSteps: number;
  lengths: number[];
  layers: TiledLayer[];
  tiling: TilingInfo;
  initialTiles: Tile[];
  input: { label: string; features: number; values: TiledArray } | null;
  saliency: TiledArray | null;
  confidence: TiledArray | null;
  /** Predicted class id per step and 1 where it is wrong (labels given), or null. */
  predicted: TiledArray | null;
  mispredicted: TiledArray | null;
  /** Whether token labels can be asked for by window (tokens.ts). */
  tokensOnRequest: boolean;
  /** What the tiled explorer leaves out (attention, PCA, …), as names. */
  tiledOut: string[];
  loss: number | null;
}

type RawRef = { tiled?: unknown; key?: unknown; shape?: unknown } | null | undefined;

function ref(raw: RawRef, name: string, nSamples: number, nSteps: number): TiledArray | null {
  if (!raw) return null;
  if (raw.tiled !== true || typeof raw.key !== "string" || !Array.isArray(raw.shape)) {
    throw new Error(`${name}: expected a tiled array {tiled, key, shape}`);
  }
  const shape = raw.shape.map(Number);
  if (shape[0] !== nSamples || shape[1] !== nSteps) {
    throw new Error(`${name}: shape [${shape.join(", ")}] is not [${nSamples}, ${nSteps}, …]`);
  }
  return { key: raw.key, width: shape.length > 2 ? shape[2] : 1 };
}

function refs(raw: unknown, name: string, nSamples: number, nSteps: number): Map<string, TiledArray> {
  const out = new Map<string, TiledArray>();
  for (const [q, r] of Object.entries((raw ?? {}) as Record<string, RawRef>)) {
    const a = ref(r, `${name} ${q}`, nSamples, nSteps);
    if (a) out.set(q, a);
  }
  return out;
}

function seriesOf(raw: unknown, name: string, nSamples: number, nSteps: number): TiledLayer["series"] {
  const out: TiledLayer["series"] = new Map();
  for (const [label, r] of Object.entries((raw ?? {}) as Record<string, RawRef & { labels?: unknown }>)) {
    const a = ref(r, `${name} ${label}`, nSamples, nSteps);
    if (!a) continue;
    const labels = Array.isArray(r?.labels) ? r.labels.map(String) : [];
    out.set(label, { ...a, labels });
  }
  return out;
}

/** Whether a raw `_data` is tiled. */
export function isTiled(raw: unknown): boolean {
  return !!raw && typeof raw === "object" && !!(raw as { tiling?: unknown }).tiling;
}

export function decodeTiledPayload(raw: Record<string, unknown>): TiledPayload {
  const nSamples = Number(raw.n_samples);
  const nSteps = Number(raw.n_steps);
  if (!Number.isInteger(nSamples) || nSamples < 1) throw new Error(`n_samples must be ≥ 1, got ${raw.n_samples}`);
  if (!Number.isInteger(nSteps) || nSteps < 1) throw new Error(`n_steps must be ≥ 1, got ${raw.n_steps}`);
  const lengths = Array.from({ length: nSamples }, (_, b) => {
    const v = Array.isArray(raw.lengths) ? Number(raw.lengths[b]) : nSteps;
    return Number.isFinite(v) ? Math.max(0, Math.min(nSteps, Math.round(v))) : nSteps;
  });
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) throw new Error("the payload has no layers");
  const layers: TiledLayer[] = raw.layers.map((l: Record<string, unknown>, i: number) => {
    const name = String(l.name ?? `layer ${i}`);
    const arrays = refs(l.arrays, `layer ${name}`, nSamples, nSteps);
    if (!arrays.has("h")) throw new Error(`layer ${name}: missing the hidden state "h"`);
    const ordered = new Map([["h", arrays.get("h") as TiledArray], ...[...arrays].filter(([q]) => q !== "h")]);
    const steps = Number.isInteger(Number(l.steps)) ? Number(l.steps) : nSteps;
    return {
      name,
      kind: String(l.kind ?? ""),
      units: Number(l.units),
      direction: (l.direction as TiledLayer["direction"]) ?? null,
      fidelity: Number(l.fidelity),
      lengths: lengths.map((n) => Math.min(n, steps)),
      arrays: ordered,
      gradNorms: refs(l.grad_norms, `layer ${name} gradient norms`, nSamples, nSteps),
      series: seriesOf(l.series, `layer ${name}`, nSamples, nSteps),
      trajectory: seriesOf({ trajectory: l.trajectory }, `layer ${name}`, nSamples, nSteps).get("trajectory") ?? null,
      health: (l.health as HealthPayload) ?? null,
    };
  });
  const inp = raw.input as { label?: unknown; features?: unknown; values?: RawRef } | null | undefined;
  const values = inp ? ref(inp.values, "input", nSamples, nSteps) : null;
  const pred = raw.predictions as { confidence?: RawRef; predicted?: RawRef; mispredicted?: RawRef } | null | undefined;
  const tiles = Array.isArray(raw.initial_tiles) ? (raw.initial_tiles as RawTile[]) : [];
  return {
    tiled: true,
    modelName: String(raw.model_name ?? ""),
    nSamples,
    nSteps,
    lengths,
    layers,
    tiling: decodeTiling(raw.tiling, nSteps),
    initialTiles: tiles.map((t) => decodeTile(t)),
    input: values ? { label: String(inp?.label ?? "input"), features: Number(inp?.features), values } : null,
    saliency: ref(raw.saliency as RawRef, "saliency", nSamples, nSteps),
    confidence: pred ? ref(pred.confidence, "confidence", nSamples, nSteps) : null,
    predicted: pred ? ref(pred.predicted, "predicted", nSamples, nSteps) : null,
    mispredicted: pred ? ref(pred.mispredicted, "mispredicted", nSamples, nSteps) : null,
    tokensOnRequest: raw.tokens_on_request === true,
    tiledOut: Array.isArray(raw.tiled_out) ? raw.tiled_out.map(String) : [],
    loss: raw.loss === null || raw.loss === undefined ? null : Number(raw.loss),
  };
}

export function findTiledLayer(p: TiledPayload, name: string): TiledLayer {
  return p.layers.find((l) => l.name === name) ?? p.layers[0];
}
