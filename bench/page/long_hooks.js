// Installed by bench/long_sequences.py with Page.addScriptToEvaluateOnNewDocument, before any
// script of the page runs. Two things, as window.__bench:
// 1. every WebSocket the page opens counts the bytes it receives (event.data sizes: an
//    ArrayBuffer's byteLength, a Blob's size, a string's length);
// 2. arm(canvasFn) starts a requestAnimationFrame poll that stamps Date.now() the first frame
//    the explorer's heatmap canvas is painted (canvasFn: tests/lab/canvas.js), with the bytes
//    received until then.
(() => {
  const B = { bytes: 0, frames: 0, sockets: 0, paint: null, armed: false };
  const size = (d) =>
    typeof d === "string" ? d.length : d && typeof d.byteLength === "number" ? d.byteLength : d && typeof d.size === "number" ? d.size : 0;
  const Orig = window.WebSocket;
  class CountingWebSocket extends Orig {
    constructor(...args) {
      super(...args);
      B.sockets++;
      this.addEventListener("message", (e) => {
        B.bytes += size(e.data);
        B.frames++;
      });
    }
  }
  window.WebSocket = CountingWebSocket;
  B.arm = (canvasSrc) => {
    const painted = (0, eval)(`(${canvasSrc})`);
    B.paint = null;
    B.armed = true;
    B.armedAt = Date.now();
    B.armedBytes = B.bytes;
    const poll = () => {
      if (!B.armed) return;
      const roots = document.querySelectorAll("div.lstmviz");
      const root = roots[roots.length - 1];
      if (root && root.querySelector("canvas.lstmviz-heatmap-canvas")) {
        let st = null;
        try { st = painted(root); } catch (e) { st = { painted: false, why: String(e) }; }
        if (st.painted) {
          B.paint = { at: Date.now(), bytes: B.bytes - B.armedBytes, frames: B.frames, fraction: st.fraction };
          B.armed = false;
          return;
        }
      }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
    return true;
  };
  window.__bench = B;
})();
