/**
 * The gates of a layer (payload keys "gate:<name>") and their fixed colours, shared by every
 * view that draws gates.
 */
import type { DecodedArray, DecodedLayer } from "../codecs";
import { colorScaleFor } from "./scales";
import { SERIES_COLORS } from "./scales";

/** Fixed colours of the usual gates (GRU's update gate keeps like LSTM's forget gate). */
export const GATE_COLORS: Record<string, string> = {
  input: "#4e79a7",
  forget: "#f28e2b",
  cell: "#b07aa1",
  output: "#59a14f",
  update: "#f28e2b",
  reset: "#76b7b2",
  candidate: "#b07aa1",
};

export function gateColor(name: string, index: number): string {
  return GATE_COLORS[name] ?? SERIES_COLORS[index % SERIES_COLORS.length];
}
export interface Gate {
  name: string;
  array: DecodedArray;
  /** Signed (tanh) gate: drawn in the [-1, 1] panel. */
  signed: boolean;
  color: string;
}

/** The gates of a layer, in payload order, with their panel and colour. */
export function gatesOf(layer: DecodedLayer): Gate[] {
  const out: Gate[] = [];
  for (const [key, array] of layer.arrays) {
    if (!key.startsWith("gate:")) continue;
    const name = key.slice(5);
    const signed = colorScaleFor(array, key).kind === "diverging";
    out.push({ name, array, signed, color: gateColor(name, out.length) });
  }
  return out;
}
