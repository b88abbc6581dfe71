/**
 * Token labels of a long capture, asked for by window (a tiled `_data` has none: a label per
 * step would be megabytes of JSON). Blocks of TOKEN_BLOCK steps are requested once each
 * (`lstmviz-tokens` custom messages, answered by lstmviz_widget/widget/messages.py) and kept,
 * at most MAX_BLOCKS of them (least recently used out). No DOM.
 */
import type { TileTransport } from "./client";

export const TOKENS_MESSAGE = "lstmviz-tokens";
export const TOKEN_BLOCK = 512;
export const MAX_BLOCKS = 256;
/** Windows longer than this are never asked for (nobody reads 4,096 labels at once). */
export const MAX_WINDOW = 4096;

export class TokenClient {
  private readonly transport: TileTransport | null;
  private readonly blocks = new Map<string, string[]>();
  private readonly asked = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private readonly unlisten: () => void;
  private nextId = 1;
  lastError: string | null = null;

  constructor(transport: TileTransport | null) {
    this.transport = transport;
    this.unlisten = transport ? transport.listen((c) => this.receive(c)) : () => {};
  }

  /** The label of step t, or undefined until its block is in (then asked for). */
  at(sample: number, t: number, nSteps: number): string | undefined {
    const b = Math.floor(t / TOKEN_BLOCK);
    const block = this.block(sample, b, nSteps);
    return block?.[t - b * TOKEN_BLOCK];
  }

  /** Labels of steps [t0, t1) (undefined where not in yet); nothing for a window too long. */
  window(sample: number, t0: number, t1: number, nSteps: number): Array<string | undefined> | null {
    if (t1 - t0 > MAX_WINDOW) return null;
    const out: Array<string | undefined> = [];
    for (let t = t0; t < t1; t++) out.push(this.at(sample, t, nSteps));
    return out;
  }

  onTokens(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private block(sample: number, b: number, nSteps: number): string[] | undefined {
    const id = `${sample}/${b}`;
    const got = this.blocks.get(id);
    if (got !== undefined) {
      this.blocks.delete(id);
      this.blocks.set(id, got);
      return got;
    }
    if (this.transport !== null && !this.asked.has(id)) {
      this.asked.add(id);
      const start = b * TOKEN_BLOCK;
      const stop = Math.min(nSteps, start + TOKEN_BLOCK);
      this.transport.send({ type: TOKENS_MESSAGE, id: this.nextId++, sample, start, stop });
    }
    return undefined;
  }

  receive(content: unknown): void {
    const m = content as { type?: unknown; error?: unknown; sample?: unknown; start?: unknown; tokens?: unknown };
    if (!m || m.type !== TOKENS_MESSAGE) return;
    if (typeof m.error === "string" && m.error) {
      this.lastError = m.error;
      return;
    }
    const start = Number(m.start);
    if (!Number.isInteger(start) || !Array.isArray(m.tokens)) return;
    const id = `${Number(m.sample)}/${Math.floor(start / TOKEN_BLOCK)}`;
    this.blocks.set(id, m.tokens.map(String));
    this.asked.delete(id);
    for (const [old] of this.blocks) {
      if (this.blocks.size <= MAX_BLOCKS) break;
      this.blocks.delete(old);
    }
    for (const cb of this.listeners) cb();
  }

  destroy(): void {
    this.unlisten();
    this.listeners.clear();
  }
}
