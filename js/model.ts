/**
 * The widget's model, as the browser sees it.
 *
 * Mirrors the synced traits of `LSTMExplorer` in lstmviz_widget/widget/explorer.py and the
 * `_data` payload written by lstmviz_widget/widget/_serialization.py
 * (contract: docs/widget-contract.md). Change both sides in the same commit.
 */

/** Raw bytes of one array, as anywidget hands them over (normally a DataView). */
export type RawBytes = DataView | ArrayBuffer | Uint8Array;

/** One array of the payload: `{dtype, shape, data}`, data = little-endian C-order bytes. */
export interface EncodedArray {
  dtype: string;
  shape: number[];
  data: RawBytes;
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
