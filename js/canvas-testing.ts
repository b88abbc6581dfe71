/**
 * Test helper (imported by *.test.ts only; never bundled): a real 2D canvas in jsdom.
 *
 * jsdom only knows the `canvas` npm package (whose install downloads a binary, which this
 * project's machines cannot do); without it `getContext` returns null and the views paint
 * nothing. `installCanvas()` backs every jsdom <canvas> with an `@napi-rs/canvas` (Skia; its
 * binary ships inside the npm package): `getContext("2d")` returns that canvas's real context,
 * setting `width`/`height` resizes (and clears) it as in a browser, `drawImage` and
 * `createPattern` accept jsdom canvases, `ctx.canvas` is the jsdom element (views key caches on
 * it) and `toDataURL` encodes the painted pixels. `pixel()` reads back what was painted.
 */
import { createCanvas, type Canvas, type SKRSContext2D } from "@napi-rs/canvas";

const backings = new WeakMap<HTMLCanvasElement, Canvas>();
const contexts = new WeakMap<HTMLCanvasElement, CanvasRenderingContext2D>();

/** The Skia canvas behind a jsdom canvas (made at the element's size on first use). */
export function backingOf(el: HTMLCanvasElement): Canvas {
  let c = backings.get(el);
  if (!c) {
    c = createCanvas(el.width, el.height);
    backings.set(el, c);
  }
  return c;
}

const unwrap = (img: unknown): unknown => (img instanceof HTMLCanvasElement ? backingOf(img) : img);

function contextOf(el: HTMLCanvasElement): CanvasRenderingContext2D {
  let proxy = contexts.get(el);
  if (proxy) return proxy;
  const real: SKRSContext2D = backingOf(el).getContext("2d");
  proxy = new Proxy(real, {
    get(target, prop) {
      if (prop === "canvas") return el;
      if (prop === "drawImage") {
        return (img: unknown, ...rest: number[]) =>
          (target.drawImage as (...a: unknown[]) => void)(unwrap(img), ...rest);
      }
      if (prop === "createPattern") {
        return (img: unknown, rep: string | null) =>
          (target.createPattern as (...a: unknown[]) => unknown)(unwrap(img), rep);
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value, target);
    },
  }) as unknown as CanvasRenderingContext2D;
  contexts.set(el, proxy);
  return proxy;
}

let installed: (() => void) | null = null;

/** Back jsdom's canvases with real ones; returns the function that puts jsdom's back. */
export function installCanvas(): () => void {
  if (installed) return installed;
  const proto = HTMLCanvasElement.prototype;
  const saved = {
    getContext: Object.getOwnPropertyDescriptor(proto, "getContext"),
    toDataURL: Object.getOwnPropertyDescriptor(proto, "toDataURL"),
    width: Object.getOwnPropertyDescriptor(proto, "width"),
    height: Object.getOwnPropertyDescriptor(proto, "height"),
  };
  for (const dim of ["width", "height"] as const) {
    const d = saved[dim];
    if (!d?.get || !d.set) throw new Error(`jsdom's HTMLCanvasElement has no ${dim} accessor`);
    const { get, set } = d;
    Object.defineProperty(proto, dim, {
      configurable: true,
      enumerable: d.enumerable,
      get,
      set(this: HTMLCanvasElement, v: number) {
        set.call(this, v);
        const c = backings.get(this);
        if (c) c[dim] = get.call(this) as number; // a browser clears and resets the context here too
      },
    });
  }
  Object.defineProperty(proto, "getContext", {
    configurable: true,
    writable: true,
    value(this: HTMLCanvasElement, type: string) {
      return type === "2d" ? contextOf(this) : null;
    },
  });
  Object.defineProperty(proto, "toDataURL", {
    configurable: true,
    writable: true,
    value(this: HTMLCanvasElement, type?: string) {
      return backingOf(this).toDataURL((type ?? "image/png") as "image/png");
    },
  });
  installed = () => {
    for (const [k, d] of Object.entries(saved)) if (d) Object.defineProperty(proto, k, d);
    installed = null;
  };
  return installed;
}

/** The RGBA of device pixel (x, y) of a canvas, as painted. */
export function pixel(el: HTMLCanvasElement, x: number, y: number): [number, number, number, number] {
  const d = backingOf(el).getContext("2d").getImageData(Math.floor(x), Math.floor(y), 1, 1).data;
  return [d[0], d[1], d[2], d[3]];
}

/** All of a canvas's pixels (RGBA, row-major). */
export function pixels(el: HTMLCanvasElement): Uint8ClampedArray {
  const c = backingOf(el);
  return c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
}

/** How many pixels of a canvas are within `tol` (per channel) of `rgb`, with alpha > 0. */
export function countColour(el: HTMLCanvasElement, rgb: readonly [number, number, number], tol = 0): number {
  const d = pixels(el);
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    if (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol) n++;
  }
  return n;
}
