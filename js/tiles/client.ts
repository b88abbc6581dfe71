/**
 * Asks the kernel for tiles and files the replies in the cache.
 *
 * Views call `want(...)`: a held tile comes back at once; a missing one is queued (once —
 * requests in flight or queued are not repeated) and the queue goes out in batches of ≤
 * MAX_PER_MESSAGE at the end of the task, so a frame that needs 20 tiles sends one message.
 * A reply files its tiles, records how long the batch took (`lastLatencyMs`, from the request
 * to the reply's arrival) and tells the listeners, who redraw. Offline (save_html) nothing is
 * ever requested: only the embedded tiles exist. Tiles of a key the kernel is still computing
 * come back as `pending` and are asked for again after RETRY_MS (they count as pending). Errors in a reply (an unknown key) go to
 * `lastError`, shown by the views as a note, never thrown into a draw.
 */
import type { RawBytes } from "../model";
import { TileCache } from "./cache";
import { decodeTile, type RawTile, type Tile, tileId, type TileRequest } from "./types";

export const MAX_PER_MESSAGE = 64;
/** How long to wait before asking again for tiles the kernel is still computing. */
export const RETRY_MS = 250;
export const TILES_MESSAGE = "lstmviz-tiles";

export interface TileTransport {
  send(content: Record<string, unknown>): void;
  /** Subscribe to custom messages from the kernel; returns the unsubscribe. */
  listen(cb: (content: unknown, buffers: readonly RawBytes[]) => void): () => void;
}

export class TileClient {
  readonly cache: TileCache;
  private readonly transport: TileTransport | null;
  private readonly queued = new Map<string, TileRequest>();
  /** id of the tile → request id it went out with. */
  private readonly inFlight = new Map<string, number>();
  private readonly sentAt = new Map<number, number>();
  private readonly listeners = new Set<(tiles: Tile[]) => void>();
  private nextId = 1;
  private flushScheduled = false;
  private dead = false;
  private readonly unlisten: () => void;
  lastLatencyMs: number | null = null;
  /** When the batch of the last reply went out (performance.now()), for request → drawn. */
  lastReplySentAt: number | null = null;
  lastError: string | null = null;

  constructor(cache: TileCache, transport: TileTransport | null) {
    this.cache = cache;
    this.transport = transport;
    this.unlisten = transport ? transport.listen((c, b) => this.receive(c, b)) : () => {};
  }

  get offline(): boolean {
    return this.transport === null;
  }

  /** Tiles asked for and not yet answered. */
  get pending(): number {
    return this.inFlight.size + this.queued.size;
  }

  /** The tile if held; otherwise queue a request for it (live only) and return undefined. */
  want(key: string, sample: number, level: number, index: number): Tile | undefined {
    const t = this.cache.get(key, sample, level, index);
    if (t !== undefined || this.transport === null) return t;
    const id = tileId(key, sample, level, index);
    if (!this.inFlight.has(id) && !this.queued.has(id)) {
      this.queued.set(id, [key, sample, level, index]);
      this.scheduleFlush();
    }
    return undefined;
  }

  /** Tell `cb` about every reply's tiles; returns the unsubscribe. */
  onTiles(cb: (tiles: Tile[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Send what is queued now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.transport === null || this.queued.size === 0) return;
    const all = [...this.queued];
    this.queued.clear();
    for (let i = 0; i < all.length; i += MAX_PER_MESSAGE) {
      const batch = all.slice(i, i + MAX_PER_MESSAGE);
      const id = this.nextId++;
      for (const [tid] of batch) this.inFlight.set(tid, id);
      this.sentAt.set(id, performance.now());
      this.transport.send({ type: TILES_MESSAGE, id, tiles: batch.map(([, r]) => [...r]) });
    }
  }

  /** A message from the kernel (ours or not). */
  receive(content: unknown, buffers: readonly RawBytes[]): void {
    const msg = content as { type?: unknown; id?: unknown; error?: unknown; tiles?: unknown; pending?: unknown } | null;
    if (!msg || msg.type !== TILES_MESSAGE) return;
    const id = Number(msg.id);
    const sent = this.sentAt.get(id);
    this.sentAt.delete(id);
    if (sent !== undefined) {
      this.lastLatencyMs = performance.now() - sent;
      this.lastReplySentAt = sent;
    }
    this.lastError = typeof msg.error === "string" && msg.error ? msg.error : null;
    const got: Tile[] = [];
    for (const raw of Array.isArray(msg.tiles) ? (msg.tiles as RawTile[]) : []) {
      try {
        const t = decodeTile(raw, buffers);
        this.cache.put(t);
        got.push(t);
      } catch (err) {
        this.lastError = (err as Error).message;
      }
    }
    // Everything this request asked for is answered (an entry the kernel refused included),
    // except what it is still computing (a derived key): asked again after RETRY_MS.
    const again: TileRequest[] = [];
    for (const e of Array.isArray(msg.pending) ? (msg.pending as TileRequest[]) : []) {
      if (Array.isArray(e) && e.length === 4) again.push([String(e[0]), Number(e[1]), Number(e[2]), Number(e[3])]);
    }
    const waiting = new Set(again.map((r) => tileId(...r)));
    for (const [tid, rid] of this.inFlight) if (rid === id && !waiting.has(tid)) this.inFlight.delete(tid);
    if (again.length) {
      setTimeout(() => {
        if (this.dead) return;
        for (const r of again) {
          const tid = tileId(...r);
          this.inFlight.delete(tid);
          if (!this.cache.has(...r)) this.queued.set(tid, r);
        }
        this.scheduleFlush();
      }, RETRY_MS);
    }
    for (const cb of this.listeners) cb(got);
  }

  destroy(): void {
    this.dead = true;
    this.unlisten();
    this.listeners.clear();
  }
}
