/**
 * Two small buttons, "PNG" and "SVG", that download the whole explorer as drawn now
 * (js/export/figure.ts), named after the model and the cursor: `<model>-t<timestep>.png`.
 * The buttons leave themselves out of the figure (`data-lstmviz-export="skip"`).
 */
import type { DecodedPayload } from "../codecs";
import { html } from "../render/dom";
import { exportFigure, safeFileName, type ExportFormat } from "../export/figure";
import type { Store } from "../store";

/** Device pixels per CSS pixel of a downloaded PNG. */
export const DOWNLOAD_SCALE = 2;

/** File name of a download: the model name (sanitised) and the timestep. */
export function downloadName(modelName: string, timestep: number, format: ExportFormat): string {
  return safeFileName(`${modelName || "lstm-explorer"}-t${timestep}`, format);
}

/** Hand `blob` to the browser as a download named `name` (Blob URL + `<a download>`). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  a.style.display = "none";
  document.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    // The download has started by now; keep the URL a little longer for slow browsers.
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
  }
}

/** Draw the explorer that contains `from` and download it. */
export async function downloadFigure(from: HTMLElement, format: ExportFormat, name: string): Promise<void> {
  const root = from.closest<HTMLElement>("div.lstmviz") ?? from;
  const result = await exportFigure(root, { format, scale: DOWNLOAD_SCALE });
  saveBlob(new Blob([result.bytes as BlobPart], { type: result.mime }), name);
}

export function createDownload(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const group = html("span", "lstmviz-downloads");
  group.dataset.lstmvizExport = "skip";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "download the figure");
  const buttons = (["png", "svg"] as const).map((format) => {
    const label = format.toUpperCase();
    const button = html("button", "lstmviz-download", label);
    button.type = "button";
    button.dataset.format = format;
    const idleTitle = `Download the explorer as ${label}`;
    button.title = idleTitle;
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (button.disabled) return;
      button.disabled = true;
      const name = downloadName(payload.modelName, store.state.timestep, format);
      downloadFigure(container, format, name)
        .then(() => {
          button.title = idleTitle;
          button.classList.remove("failed");
        })
        .catch((err: unknown) => {
          console.error("lstmviz: download failed", err);
          button.title = `${label} export failed: ${err instanceof Error ? err.message : String(err)}`;
          button.classList.add("failed");
        })
        .finally(() => {
          button.disabled = false;
        });
    });
    return button;
  });
  group.append(...buttons);
  // The explorer mounts it in the toolbar, after the controls (widget.css lays the two out).
  container.append(group);
  return () => group.remove();
}
