/**
 * Figures of the explorer as PNG or SVG, drawn from what is on screen: `exportFigure` turns a
 * region into a scene (export/scene.ts, DOM → scene) and paints it (export/svg.ts,
 * export/png.ts). The kernel's requests are answered in export/protocol.ts.
 */
import { checkScale, sceneToPng } from "./png";
import { collectScene, findRegion } from "./scene";
import { sceneToSvg } from "./svg";

export type ExportFormat = "png" | "svg";

export const MIME: Record<ExportFormat, string> = { png: "image/png", svg: "image/svg+xml" };

/** A file name made of `base` (model name) and `ext`: no path separators, control characters
 *  or characters Windows refuses; never empty. */
export function safeFileName(base: string, ext: string): string {
  const cleaned = base
    .normalize("NFC")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, "_")
    .replace(/\s+/g, "_")
    .replace(/^[._]+|[._]+$/g, "")
    .slice(0, 80);
  return `${cleaned || "lstm-explorer"}.${ext}`;
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

export interface ExportOptions {
  format: ExportFormat;
  /** A `.lstmviz-view[data-view]` name; null/undefined for the whole explorer. */
  view?: string | null;
  /** Device pixels per CSS pixel (PNG only). Default 2. */
  scale?: number;
}

export interface ExportResult {
  bytes: Uint8Array;
  mime: string;
  /** Size of the exported region in CSS pixels. */
  width: number;
  height: number;
}

/** Draw `root` (a `.lstmviz` element) or one of its views as a PNG or SVG file's bytes. */
export async function exportFigure(root: HTMLElement, options: ExportOptions): Promise<ExportResult> {
  const format = options.format;
  if (format !== "png" && format !== "svg") throw new Error(`format must be "png" or "svg", got ${String(format)}`);
  const scale = checkScale(options.scale ?? 2);
  const region = findRegion(root, options.view);
  const scene = collectScene(region);
  const bytes = format === "svg" ? new TextEncoder().encode(sceneToSvg(scene)) : await sceneToPng(scene, scale);
  return { bytes, mime: MIME[format], width: scene.width, height: scene.height };
}
