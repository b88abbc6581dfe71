/**
 * The widget's model, as the browser sees it.
 *
 * Mirrors the synced traits of `LSTMExplorer` in lstmviz_widget/widget/explorer.py and the
 * `_data` payload written by lstmviz_widget/widget/payload.py
 * (contract: docs/widget-contract.md). Change both sides in the same commit.
 */

/** Raw bytes of one array, as anywidget hands them over (normally a DataView). */
export type RawBytes = DataView | ArrayBuffer | Uint8Array;

/** One array of the payload: `{dtype, shape, data}`, data = little-endian C-order bytes. */
export interface EncodedArray {
  dtype: string;
  shape: number[];
  data: RawBytes;
  /** Multiply the decoded values by this (float16 arrays scaled into range); default 1. */
  scale?: number | null;
}

/** One recurrent layer (one direction of a Bidirectional) of the payload. */
export interface LayerPayload {
  name: string;
  kind: "LSTM" | "GRU" | "SimpleRNN" | string;
  units: number;
  direction: "forward" | "backward" | null;
  /** max |h_replayed − h_keras| over the capture. */
  fidelity: number;
  /** This layer's own number of steps (≤ n_steps; arrays are padded to n_steps). */
  steps?: number;
  /** Keys are the quantities offered: "h", "c" (LSTM only), "gate:<name>". Each (B, T, U). */
  arrays: Record<string, EncodedArray>;
  /** Width D of the layer's input sequence. */
  input_dim?: number;
  /** ‖∂L/∂q_t‖ over units per step, (B, T), keyed like `arrays` ("h", "c", "gate:<name>"). */
  grad_norms?: Record<string, EncodedArray> | null;
  /** Principal components of h: projection (B, T, k ≤ 3) and explained-variance ratios. */
  pca?: { projection: EncodedArray; explained: number[] } | null;
  /** Per gate ("cell" for SimpleRNN): kernel (D, U), recurrent_kernel (U, U), bias (U,) or (2, U). */
  weights?: Record<string, Record<string, EncodedArray>> | null;
  /** Gradients of the loss w.r.t. `weights`, same structure (captured with gradients=True). */
  weight_grads?: Record<string, Record<string, EncodedArray>> | null;
  /** Saturated gates, dead units, collapse (lstmviz_widget.analysis.health). */
  health?: HealthPayload | null;
}

export interface HealthPayload {
  findings: string[];
  /** Clickable groups of units (selecting one selects those units). */
  groups: Array<{ label: string; units: number[]; kind: string }>;
  collapsed: boolean;
  mean_variance: number;
}

export interface AttentionPayload {
  name: string;
  kind: string;
  query_source: string | null;
  key_source: string | null;
  /** (B, heads, Tq, Tk); rows sum to 1. */
  scores: EncodedArray;
}

export interface PredictionsPayload {
  mode: string;
  task: string;
  reason: string;
  source_layer: string | null;
  /** (B, T) */
  confidence: EncodedArray;
  /** (B, T) int32, or null (regression) */
  predicted: EncodedArray | null;
  /** (B, T) uint8 (1 = wrong), or null (no labels given) */
  mispredicted: EncodedArray | null;
}

/** The `_data` trait (Python → JS only, set once per capture). */
export interface Payload {
  format: number;
  model_name: string;
  n_samples: number;
  n_steps: number;
  /** Valid (unmasked) steps of each sample. */
  lengths: number[];
  /** One label per step for each sample; render as text, never HTML. */
  tokens: string[][] | null;
  layers: LayerPayload[];
  /** Training epochs of the snapshots an explorer scrubs across (`LSTMMonitor.explorer()`);
   *  absent for a single capture. The synced `epoch` trait indexes this list. */
  epochs?: number[] | null;
  /** Numeric input of the first recurrent layer, first ≤ 8 features: values (B, T, F). */
  input?: { label: string; features: number; values: EncodedArray } | null;
  /** Gradient × input of the first model input, summed over features, (B, T); signed. */
  saliency?: EncodedArray | null;
  predictions?: PredictionsPayload | null;
  attention?: AttentionPayload[];
  loss?: number | null;
}

/** Synced traits of `LSTMExplorer` (lstmviz_widget/widget/explorer.py). */
export interface ModelTraits {
  /** Cursor position, 0 ≤ t < n_steps. */
  timestep: number;
  /** Which sequence of the batch is shown, 0 ≤ b < n_samples. */
  sample: number;
  /** Name of the layer shown (one of `_data.layers[*].name`). */
  layer: string;
  /** "h", "c" or "gate:<name>". */
  quantity: string;
  /** Highlighted units (may be empty). */
  selected_units: number[];
  /** Index into `_data.epochs` (0 for a single capture). */
  epoch: number;
  _data: Payload;
  // The anywidget model type wants an index signature.
  [key: string]: unknown;
}

/** The synced trait names the store writes back (everything except `_data`). */
export type SyncedTrait = "timestep" | "sample" | "layer" | "quantity" | "selected_units" | "epoch";
