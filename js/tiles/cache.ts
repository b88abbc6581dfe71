/**
 * A bounded tile cache, least recently used first out, by bytes. Pinned tiles (the first
 * payload's overview, an offline copy's tiles) never leave, so there is always something to
 * draw. Pure: no DOM.
 */
import { type Tile, tileId } from "./types";

export const CACHE_BUDGET_BYTES = 128 * 2 ** 20;

export class TileCache {
  private readonly tiles = new Map<string, Tile>();
  private readonly pinned = new Set<string>();
  private held = 0;
  readonly budget: number;

  constructor(budget = CACHE_BUDGET_BYTES) {
    this.budget = budget;
  }

  /** Bytes held now (pinned included). */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.tiles.size;
  }

  /** The tile, marked as just used; undefined when absent. */
  get(key: string, sample: number, level: number, index: number): Tile | undefined {
    const id = tileId(key, sample, level, index);
    const t = this.tiles.get(id);
    if (t !== undefined) {
      this.tiles.delete(id); // Map order is the recency order
      this.tiles.set(id, t);
    }
    return t;
  }

  /** Whether the tile is held (without touching its recency). */
  has(key: string, sample: number, level: number, index: number): boolean {
    return this.tiles.has(tileId(key, sample, level, index));
  }

  put(tile: Tile, pin = false): void {
    const id = tileId(tile.key, tile.sample, tile.level, tile.index);
    const old = this.tiles.get(id);
    if (old !== undefined) {
      this.held -= old.bytes;
      this.tiles.delete(id);
    }
    this.tiles.set(id, tile);
    this.held += tile.bytes;
    if (pin) this.pinned.add(id);
    this.evict();
  }

  private evict(): void {
    if (this.held <= this.budget) return;
    for (const [id, t] of this.tiles) {
      if (this.held <= this.budget) break;
      if (this.pinned.has(id)) continue;
      this.tiles.delete(id);
      this.held -= t.bytes;
    }
  }
}
