// The frontend benchmark page (driven by bench/frontend.py through Playwright).
//
// Renders the widget bundle (`/bundle/widget.js`, ESM, default export {render}) with a fake
// anywidget model whose state is exactly what ipywidgets would hand over: the JSON state with
// every binary buffer put back at its path as a DataView over its own ArrayBuffer.
// Exposes `window.bench` with the measurements; every time is from performance.now().

// ---- requestAnimationFrame bookkeeping ---------------------------------------------------
// Patched before the bundle is imported, so every rAF the widget (or d3) schedules is counted:
// `pending` holds the widget's callbacks not yet run. The bench's own callbacks use rawRaf.
const rawRaf = window.requestAnimationFrame.bind(window);
const rawCaf = window.cancelAnimationFrame.bind(window);
const pending = new Set();
window.requestAnimationFrame = (cb) => {
  const id = rawRaf((ts) => {
    pending.delete(id);
    cb(ts);
  });
  pending.add(id);
  return id;
};
window.cancelAnimationFrame = (id) => {
  pending.delete(id);
  rawCaf(id);
};

// A task queued from a rAF callback runs after that frame's whole rendering update
// (callbacks, style, layout, ResizeObserver, paint): it marks the end of the frame's work.
const channel = new MessageChannel();
const tasks = [];
channel.port1.onmessage = () => tasks.shift()();
function afterTask(cb) {
  tasks.push(cb);
  channel.port2.postMessage(0);
}
/** performance.now() at the end of the next frame's rendering. */
function frameEnd() {
  return new Promise((resolve) => rawRaf(() => afterTask(() => resolve(performance.now()))));
}

// ---- long animation frames ------------------------------------------------------------------
const loafSupported =
  typeof PerformanceObserver !== "undefined" &&
  (PerformanceObserver.supportedEntryTypes || []).includes("long-animation-frame");
let loafs = [];
if (loafSupported) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) loafs.push(e);
  }).observe({ type: "long-animation-frame", buffered: false });
}

// ---- the fake anywidget model (a port of js/testing.ts's FakeModel) -------------------------
class FakeModel {
  constructor(state) {
    this.state = state;
    this.handlers = new Map();
    this.saves = 0;
    this.widget_manager = {};
  }
  get(key) {
    return this.state[key];
  }
  set(key, value) {
    const old = this.state[key];
    this.state[key] = value;
    if (old !== value) for (const h of [...(this.handlers.get(`change:${key}`) || [])]) h();
  }
  save_changes() {
    this.saves++;
  }
  on(event, cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(cb);
  }
  off(event, cb) {
    if (this.handlers.has(event)) this.handlers.get(event).delete(cb);
  }
  send() {}
}

/** ipywidgets' put_buffers: each buffer back at its path, as a DataView. */
function putBuffers(state, paths, buffers) {
  paths.forEach((path, i) => {
    let obj = state;
    for (const k of path.slice(0, -1)) obj = obj[k];
    obj[path[path.length - 1]] = new DataView(buffers[i]);
  });
}

// ---- state -------------------------------------------------------------------------------
const host = document.getElementById("host");
let widget = null;
let model = null;
let cleanup = null;
let el = null;

function keydown(key) {
  return new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true });
}

function root() {
  return el && el.querySelector("div.lstmviz");
}

function canvasReport() {
  // For every visible canvas: is anything drawn on it? (blank = all pixels transparent/white)
  const scratch = document.createElement("canvas");
  scratch.width = 64;
  scratch.height = 64;
  const sctx = scratch.getContext("2d", { willReadFrequently: true });
  const out = [];
  for (const c of el.querySelectorAll("canvas")) {
    const r = c.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || c.width < 1 || c.height < 1) continue;
    sctx.clearRect(0, 0, 64, 64);
    sctx.drawImage(c, 0, 0, 64, 64);
    const d = sctx.getImageData(0, 0, 64, 64).data;
    let inked = 0;
    for (let i = 0; i < d.length; i += 4) {
      const white = d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245;
      if (d[i + 3] > 0 && !white) inked++;
    }
    let p = c.parentElement;
    while (p && p !== el && !/lstmviz-/.test(p.className)) p = p.parentElement;
    out.push({
      owner: (p && p.className) || c.className,
      cls: c.className,
      w: c.width,
      h: c.height,
      inked: inked / (64 * 64),
    });
  }
  return out;
}

/** The views on the page: `[data-view]` elements, else the children of the layout boxes. */
function viewsReport() {
  const r = root();
  if (!r) return [];
  let els = [...r.querySelectorAll("[data-view]")];
  if (els.length === 0) {
    els = [];
    for (const box of r.children) {
      if (box.children.length > 0 && /toolbar|tracks|cards|row/.test(String(box.className))) els.push(...box.children);
      else els.push(box);
    }
  }
  return els.map((c) => {
    const b = c.getBoundingClientRect();
    const name = c.dataset.view || String(c.className).split(" ")[0].replace(/^lstmviz-/, "");
    return { cls: name, w: Math.round(b.width), h: Math.round(b.height) };
  });
}

window.bench = {
  ready: false,
  loafSupported,

  async init(bundleUrl) {
    // the bundle's stylesheet sits next to it (anywidget would inject `_css`)
    const css = document.getElementById("widget-css");
    const loaded = new Promise((resolve) => css.addEventListener("load", resolve, { once: true }));
    css.href = new URL("widget.css", new URL(bundleUrl, location.href)).href;
    await loaded;
    widget = (await import(bundleUrl)).default;
    this.ready = true;
    return true;
  },

  /** Fetch `/data/<dir>/state.json` and its buffers; build the model. */
  async load(dir) {
    if (cleanup) {
      cleanup();
      cleanup = null;
    }
    model = null;
    host.replaceChildren();
    const t0 = performance.now();
    const meta = await (await fetch(`/data/${dir}/state.json`)).json();
    const buffers = await Promise.all(
      meta.buffers.map(async (f) => {
        const res = await fetch(`/data/${dir}/${f}`);
        if (!res.ok) throw new Error(`${f}: HTTP ${res.status}`);
        return res.arrayBuffer();
      }),
    );
    putBuffers(meta.state, meta.paths, buffers);
    model = new FakeModel(meta.state);
    const bytes = buffers.reduce((n, b) => n + b.byteLength, 0);
    return { ms: performance.now() - t0, bytes, nSteps: meta.state._data.n_steps };
  },

  /** render() until the widget has no animation frame pending; the time at that frame's end. */
  async render() {
    if (cleanup) {
      cleanup();
      cleanup = null;
    }
    host.replaceChildren();
    el = document.createElement("div");
    host.append(el);
    await frameEnd();
    const t0 = performance.now();
    let thrown = null;
    try {
      cleanup = widget.render({ model, el });
    } catch (err) {
      thrown = String(err && err.stack ? err.stack : err);
    }
    const tSync = performance.now();
    let frames = 0;
    let tEnd = tSync;
    let idle = false;
    while (frames < 600) {
      tEnd = await frameEnd();
      frames++;
      if (pending.size === 0) {
        idle = true;
        break;
      }
    }
    el.getBoundingClientRect();
    const errEl = el.querySelector(".lstmviz-error");
    return {
      syncMs: tSync - t0,
      firstRenderMs: tEnd - t0,
      frames,
      idle,
      error: errEl ? errEl.textContent : thrown,
      views: viewsReport(),
      canvases: canvasReport(),
      height: Math.round(el.getBoundingClientRect().height),
    };
  },

  /**
   * `n` scrub steps, one at a time. Each step: at the start of a rAF callback (frame N) t0,
   * dispatch ArrowRight (ArrowLeft at the end) on the focused div.lstmviz, and time frame N's
   * work to the end of its rendering; then every following frame in which the widget had
   * callbacks pending, from our first callback of that frame (queued before the widget's) to
   * the end of its rendering (a last callback, queued after the widget's, forces style and
   * layout with getBoundingClientRect). Idle time between frames (vsync) is not counted.
   */
  async scrub(n) {
    const r = root();
    r.focus();
    const T = model.get("_data").n_steps;
    let dir = "ArrowRight";
    const steps = [];
    for (let i = 0; i < n; i++) {
      const t = Number(r.dataset.timestep);
      if (t >= T - 1) dir = "ArrowLeft";
      else if (t <= 0) dir = "ArrowRight";
      steps.push(await this._step(r, () => r.dispatchEvent(keydown(dir))));
    }
    return steps;
  },

  /**
   * Zoom/pan in time the way the UI does (js/zoom.ts: Ctrl + wheel zooms about the pointer,
   * Shift + wheel pans) on the first time plot that handles wheel events: `n` zoom-in steps
   * (wheel deltaY −50 each: with zoom.ts's factor exp(0.002·deltaY), 30 steps show 1/20 of the
   * sequence), `n` pan steps (deltaY ±100 px), `n` zoom-out steps, each measured like a scrub
   * step. Null when no element takes the wheel (no zoom in this frontend).
   */
  async zoomPan(n) {
    const r = root();
    const candidates = [...r.querySelectorAll(".lstmviz-heatmap, .lstmviz-track-plot, [data-view]")];
    const wheel = (target, opts) => {
      const b = target.getBoundingClientRect();
      return new WheelEvent("wheel", {
        bubbles: true,
        cancelable: true,
        clientX: b.left + b.width * 0.5,
        clientY: b.top + Math.min(b.height * 0.5, 40),
        deltaMode: 0,
        ...opts,
      });
    };
    let target = null;
    for (const c of candidates) {
      if (c.getBoundingClientRect().width < 1) continue;
      // a handled wheel calls preventDefault; undo the probe at once
      if (!c.dispatchEvent(wheel(c, { deltaY: -1, ctrlKey: true }))) {
        c.dispatchEvent(wheel(c, { deltaY: 1, ctrlKey: true }));
        target = c;
        break;
      }
    }
    if (!target) return null;
    await frameEnd();
    while (pending.size > 0) await frameEnd();
    const out = { target: String(target.className), zoomIn: [], pan: [], zoomOut: [] };
    for (let i = 0; i < n; i++) {
      out.zoomIn.push(await this._step(r, () => target.dispatchEvent(wheel(target, { deltaY: -50, ctrlKey: true }))));
    }
    for (let i = 0; i < n; i++) {
      const d = i < n / 2 ? 100 : -100;
      out.pan.push(await this._step(r, () => target.dispatchEvent(wheel(target, { deltaY: d, shiftKey: true }))));
    }
    for (let i = 0; i < n; i++) {
      out.zoomOut.push(await this._step(r, () => target.dispatchEvent(wheel(target, { deltaY: 50, ctrlKey: true }))));
    }
    return out;
  },

  _step(r, action) {
    return new Promise((resolve) => {
      rawRaf(() => {
        const t0 = performance.now();
        const pre = [];
        let active = true;
        const onPre = () => {
          pre.push(performance.now());
          if (active) rawRaf(onPre);
        };
        rawRaf(onPre); // first callback of frame N+1, before any the widget queues now
        action();
        const tDispatch = performance.now();
        afterTask(() => {
          const frames = [performance.now() - t0];
          const post = () =>
            rawRaf(() => {
              r.getBoundingClientRect();
              afterTask(() => {
                const k = frames.length - 1;
                frames.push(performance.now() - pre[k]);
                if (pending.size > 0 && frames.length < 60) post();
                else {
                  active = false;
                  resolve({ dispatch: tDispatch - t0, frames });
                }
              });
            });
          post();
        });
      });
    });
  },

  /** The refresh interval: rAF timestamps over `n` idle frames. */
  async idleFrames(n) {
    const ts = [];
    await new Promise((resolve) => {
      const tick = (t) => {
        ts.push(t);
        if (ts.length > n) resolve();
        else rawRaf(tick);
      };
      rawRaf(tick);
    });
    return ts.slice(1).map((t, i) => t - ts[i]);
  },

  /** One scrub step per animation frame (a slider drag at the display's rate): frame intervals. */
  async continuous(n) {
    const r = root();
    r.focus();
    const T = model.get("_data").n_steps;
    let dir = "ArrowRight";
    const ts = [];
    await new Promise((resolve) => {
      const tick = (time) => {
        ts.push(time);
        if (ts.length > n) {
          resolve();
          return;
        }
        rawRaf(tick);
        const t = Number(r.dataset.timestep);
        if (t >= T - 1) dir = "ArrowLeft";
        else if (t <= 0) dir = "ArrowRight";
        r.dispatchEvent(keydown(dir));
      };
      rawRaf(tick);
    });
    // let the last step's draws finish
    while (pending.size > 0) await frameEnd();
    return ts.slice(1).map((t, i) => t - ts[i]);
  },

  /** Long animation frames seen since the last call. */
  takeLoafs() {
    const out = loafs.map((e) => ({
      duration: e.duration,
      blocking: e.blockingDuration,
      render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
      scripts: (e.scripts || []).map((s) => ({
        fn: s.sourceFunctionName || "",
        invoker: s.invoker || "",
        duration: s.duration,
      })),
    }));
    loafs = [];
    return out;
  },

  memory() {
    const m = performance.memory;
    return m ? { used: m.usedJSHeapSize, total: m.totalJSHeapSize } : null;
  },

  /** Whatever the store sends to the model; a check that scrubbing reached the store. */
  timestep() {
    const r = root();
    return r ? Number(r.dataset.timestep) : null;
  },

  pendingFrames() {
    return pending.size;
  },
};
