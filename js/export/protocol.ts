/**
 * The export protocol: the kernel's `explorer.export(...)` request (lstmviz_widget/widget/export.py)
 * and this explorer's answer, a PNG or SVG of the requested view as drawn now.
 */
import { exportFigure, type ExportFormat } from "./figure";
import { checkScale } from "./png";
import { NotShownError, UnknownViewError } from "./scene";

/** Message types of the export protocol (mirrored in lstmviz_widget/widget/export.py). */
export const REQUEST_TYPE = "lstmviz-export";
export const RESULT_TYPE = "lstmviz-export-result";
/** How long a hidden view waits before it reports that it cannot draw: Python keeps the first
 *  reply, and a visible view of the same explorer (if any) should be that one. */
export const HIDDEN_REPLY_DELAY_MS = 1000;
export interface ExportRequest {
  id: string;
  format: ExportFormat;
  view: string | null;
  scale: number;
}

/** The request in a custom message, null when the message is not an export request. Throws
 *  (with the reason) for a malformed request. */
export function parseExportRequest(msg: unknown): ExportRequest | null {
  if (!msg || typeof msg !== "object" || (msg as { type?: unknown }).type !== REQUEST_TYPE) return null;
  const m = msg as Record<string, unknown>;
  if (typeof m.id !== "string" || !m.id) throw new Error("export request without an id");
  if (m.format !== "png" && m.format !== "svg") {
    throw new Error(`format must be "png" or "svg", got ${String(m.format)}`);
  }
  const view = m.view ?? null;
  if (view !== null && typeof view !== "string") throw new Error("view must be a string or None");
  return { id: m.id, format: m.format, view, scale: checkScale(m.scale ?? 2) };
}

export type Reply = (content: Record<string, unknown>, buffers: ArrayBuffer[]) => void;

/**
 * Serve one custom message: when it is an export request, draw the explorer inside `el` and
 * reply `{type: RESULT_TYPE, id, ok: true, mime, width, height}` with the file's bytes as the
 * one buffer, or `{…, ok: false, error, code}`. Never throws. Resolves to whether `msg` was
 * an export request.
 */
/** Resolve after `n` animation frames (each at most `fallbackMs`: hidden tabs get no frames). */
export function settleFrames(n = 2, fallbackMs = 100): Promise<void> {
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(finish);
      setTimeout(finish, fallbackMs);
    });
  let p = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then(one);
  return p;
}

export async function answerExportRequest(el: HTMLElement, msg: unknown, reply: Reply): Promise<boolean> {
  const id = msg && typeof msg === "object" ? (msg as { id?: unknown }).id : undefined;
  let request: ExportRequest | null;
  try {
    request = parseExportRequest(msg);
  } catch (err) {
    const replyId = typeof id === "string" ? id : null;
    reply({ type: RESULT_TYPE, id: replyId, ok: false, error: messageOf(err), code: "bad-request" }, []);
    return true;
  }
  if (!request) return false;
  try {
    const root = el.classList.contains("lstmviz") ? el : el.querySelector<HTMLElement>("div.lstmviz");
    if (!root) {
      const panel = el.querySelector(".lstmviz-error-message");
      throw new Error(
        panel
          ? `the explorer shows an error instead of views: ${panel.textContent ?? ""}`
          : "the explorer is not rendered",
      );
    }
    // Let pending redraws land first (a trait set just before export() is drawn in the next
    // animation frame; a resize in the one after).
    await settleFrames();
    const result = await exportFigure(root, request);
    const { bytes } = result;
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    reply(
      { type: RESULT_TYPE, id: request.id, ok: true, mime: result.mime, width: result.width, height: result.height },
      [buffer as ArrayBuffer],
    );
  } catch (err) {
    const code = err instanceof UnknownViewError ? "unknown-view" : "error";
    if (err instanceof NotShownError) await new Promise((r) => setTimeout(r, HIDDEN_REPLY_DELAY_MS));
    reply({ type: RESULT_TYPE, id: request.id, ok: false, error: messageOf(err), code }, []);
  }
  return true;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
