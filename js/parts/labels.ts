/** Short labels: axis ticks (log and linear), layer names, replay fidelity. */
import type { DecodedLayer } from "../codecs";

/**
 * Tick labels of a log axis over `domain`: powers of ten ("10⁻³"); over fewer than two decades
 * also 2× and 5× ("0.2", "5"), so a narrow domain still has a few labels. Others are blank.
 */
export function logTickLabel(v: number, domain: readonly [number, number]): string {
  if (!(v > 0)) return "";
  const p = pow10Label(v);
  if (p) return p;
  if (Math.log10(domain[1] / domain[0]) >= 2) return "";
  const mant = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  if (Math.abs(mant - 2) > 1e-6 && Math.abs(mant - 5) > 1e-6) return "";
  return v >= 1e-3 && v < 1e4 ? String(Number(v.toPrecision(1))) : v.toExponential(0).replace("+", "");
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** Tick label of a power of ten: "10⁻³" (other ticks of a log axis stay unlabelled). */
export function pow10Label(v: number): string {
  const e = Math.log10(v);
  const k = Math.round(e);
  if (!(v > 0) || Math.abs(e - k) > 1e-9) return "";
  if (k === 0) return "1";
  if (k === 1) return "10";
  return `10${[...String(k)].map((c) => SUPERSCRIPT[c] ?? c).join("")}`;
}
/** "0", "0.5", "1", "−1": ticks without trailing zeros, with a real minus sign. */
export function shortTick(v: number): string {
  const r = Math.round(v * 1000) / 1000;
  return (r < 0 ? "−" : "") + String(Math.abs(r));
}

/** Replay errors at or below this are shown green. */
export const FIDELITY_OK = 1e-5;

export function layerLabel(l: Pick<DecodedLayer, "name" | "direction" | "kind" | "units">): string {
  const dir = l.direction ? ` (${l.direction})` : "";
  return `${l.name}${dir} · ${l.kind} · ${l.units} unit${l.units === 1 ? "" : "s"}`;
}

export function fidelityText(err: number): string {
  return Number.isFinite(err) ? `replay error ${err.toExponential(1)}` : "replay error n/a";
}

/** A layer's name for a card title: "bi/forward", or "lstm (backward)" when the direction is
 *  not already in the name. */
export function layerTitle(name: string, direction: string | null): string {
  return direction && !name.endsWith(direction) ? `${name} (${direction})` : name;
}
