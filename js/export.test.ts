// @vitest-environment jsdom
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { SVG_NS } from "./render/dom";
import { answerExportRequest, HIDDEN_REPLY_DELAY_MS, parseExportRequest, RESULT_TYPE } from "./export/protocol";
import { checkScale, MAX_PNG_SIDE, pixelSize } from "./export/png";
import { colorAlpha, findRegion, fitText, groupLines, styleDeclarations, viewNames, type Scene } from "./export/scene";
import { exportFigure, safeFileName } from "./export/figure";
import { sceneToSvg } from "./export/svg";
import { Store } from "./store";
import { makePayload } from "./testing";
import { decodePayload } from "./codecs";
import { createDownload, downloadName } from "./views/download";

const EVIL = "<img src=x onerror=alert(1)>";

beforeAll(() => {
  // jsdom has no canvas; its getContext returns null (after a "not implemented" warning).
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
});

afterEach(() => {
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

/** Give `el` a layout box (jsdom lays nothing out). */
function place(el: Element, x: number, y: number, w: number, h: number): void {
  (el as HTMLElement).getBoundingClientRect = () => new DOMRect(x, y, w, h);
}

/** `.lstmviz` > views "heatmap" (an SVG with an axis) and "gates"; laid out 400 × 300. */
function explorerDom(): HTMLElement {
  const root = document.createElement("div");
  root.className = "lstmviz";
  for (const name of ["heatmap", "gates"]) {
    const v = document.createElement("div");
    v.className = "lstmviz-view";
    v.dataset.view = name;
    root.append(v);
  }
  const svg = document.createElementNS(SVG_NS, "svg");
  const axis = document.createElementNS(SVG_NS, "g");
  axis.setAttribute("class", "lstmviz-axis lstmviz-axis-x");
  const tick = document.createElementNS(SVG_NS, "text");
  tick.textContent = "10";
  axis.append(tick);
  svg.append(axis);
  root.children[0].append(svg);
  document.body.append(root);
  place(root, 10, 20, 400, 300);
  place(root.children[0], 10, 20, 400, 150);
  place(svg, 20, 30, 380, 140);
  return root;
}

describe("pure helpers", () => {
  it("styleDeclarations writes set, non-default values only", () => {
    const values: Record<string, string> = { fill: "rgb(34, 34, 34)", opacity: "1", "font-size": "10px", stroke: "" };
    const text = styleDeclarations((p) => values[p] ?? "", ["fill", "opacity", "font-size", "stroke"]);
    expect(text).toBe("fill: rgb(34, 34, 34); font-size: 10px");
  });

  it("checkScale and pixelSize", () => {
    expect(checkScale(2)).toBe(2);
    expect(checkScale("1.5")).toBe(1.5);
    for (const bad of [0, -1, NaN, Infinity, 9, "x"]) expect(() => checkScale(bad)).toThrow(/scale/);
    expect(pixelSize(400.4, 300.6, 2)).toEqual({ width: 801, height: 601 });
    expect(pixelSize(0.1, 0.1, 1)).toEqual({ width: 1, height: 1 });
    expect(() => pixelSize(MAX_PNG_SIDE, 10, 2)).toThrow(/too large/);
  });

  it("safeFileName keeps names usable on every OS", () => {
    expect(safeFileName("my model", "png")).toBe("my_model.png");
    expect(safeFileName("../../etc/passwd", "svg")).toBe("etc_passwd.svg");
    expect(safeFileName('a<b>:c"|?*\u0000d', "png")).toBe("a_b_c_d.png");
    expect(safeFileName("", "png")).toBe("lstm-explorer.png");
    expect(safeFileName("...", "svg")).toBe("lstm-explorer.svg");
    expect(safeFileName("x".repeat(300), "png")).toHaveLength(84);
    expect(downloadName("seq2seq/enc", 7, "png")).toBe("seq2seq_enc-t7.png");
  });

  it("fitText cuts with an ellipsis", () => {
    const measure = (s: string) => Array.from(s).length * 10;
    expect(fitText("hello", 50, measure)).toBe("hello");
    expect(fitText("hello world", 50, measure)).toBe("hell…");
    expect(fitText("hello", 5, measure)).toBe("");
    expect(fitText("hello", 0, measure)).toBe("");
  });

  it("groupLines rebuilds wrapped lines", () => {
    const w = (text: string, left: number, top: number) => ({ text, left, top, width: text.length * 6, height: 14 });
    const lines = groupLines([w("a", 0, 0), w("bc", 10, 1), w("def", 0, 16), w("g", 24, 16)]);
    expect(lines.map((l) => [l.text, l.left, l.top])).toEqual([
      ["a bc", 0, 0],
      ["def g", 0, 16],
    ]);
    expect(lines[0].width).toBe(22);
  });

  it("colorAlpha reads computed colours", () => {
    expect(colorAlpha("transparent")).toBe(0);
    expect(colorAlpha("rgba(0, 0, 0, 0)")).toBe(0);
    expect(colorAlpha("rgba(1, 2, 3, 0.5)")).toBe(0.5);
    expect(colorAlpha("rgb(1 2 3 / 25%)")).toBe(0.25);
    expect(colorAlpha("rgb(255, 255, 255)")).toBe(1);
    expect(colorAlpha("white")).toBe(1);
  });
});

describe("views and requests", () => {
  it("finds a named view and lists the others when the name is unknown", () => {
    const root = explorerDom();
    expect(viewNames(root)).toEqual(["heatmap", "gates"]);
    expect(findRegion(root, "gates").dataset.view).toBe("gates");
    expect(findRegion(root, null)).toBe(root);
    expect(() => findRegion(root, "pca")).toThrow('no view named "pca"; available views: "heatmap", "gates"');
    const bare = document.createElement("div");
    expect(() => findRegion(bare, "heatmap")).toThrow(/no named views/);
  });

  it("parses export requests", () => {
    expect(parseExportRequest({ type: "other" })).toBeNull();
    expect(parseExportRequest(null)).toBeNull();
    expect(parseExportRequest({ type: "lstmviz-export", id: "a", format: "svg" })).toEqual({
      id: "a",
      format: "svg",
      view: null,
      scale: 2,
    });
    expect(() => parseExportRequest({ type: "lstmviz-export", id: "a", format: "gif" })).toThrow(/format/);
    expect(() => parseExportRequest({ type: "lstmviz-export", format: "png" })).toThrow(/id/);
    expect(() => parseExportRequest({ type: "lstmviz-export", id: "a", format: "png", scale: 100 })).toThrow(/scale/);
  });
});

describe("SVG document", () => {
  it("parses as XML, keeps the axes and escapes user text", () => {
    const svg = document.createElementNS(SVG_NS, "svg") as SVGSVGElement;
    const axis = document.createElementNS(SVG_NS, "g");
    axis.setAttribute("class", "lstmviz-axis lstmviz-axis-x");
    const tick = document.createElementNS(SVG_NS, "text");
    tick.textContent = "20";
    axis.append(tick);
    svg.append(axis);
    const font = { family: '"Segoe UI", sans-serif', size: "13px", weight: "600", style: "normal" };
    const scene: Scene = {
      width: 300,
      height: 200,
      background: "rgb(255, 255, 255)",
      items: [
        { kind: "rect", x: 1, y: 2, w: 3, h: 4, fill: "red", stroke: "blue", strokeWidth: 1, radius: 2 },
        { kind: "svg", x: 10, y: 10, w: 200, h: 100, node: svg },
        { kind: "text", x: 5, y: 150, text: EVIL, font, fill: "rgb(0, 0, 0)", preserve: true },
        { kind: "text", x: 5, y: 170, text: "a & b", font, fill: "rgb(0, 0, 0)", preserve: false },
        { kind: "rect", x: 0, y: 0, w: 9, h: 9, fill: "green", stroke: null, strokeWidth: 0, radius: 0, alpha: 0.4 },
      ],
    };
    const xml = sceneToSvg(scene);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml).not.toContain(EVIL);
    expect(xml).toContain("&lt;img src=x onerror=alert(1)&gt;");
    const doc = new DOMParser().parseFromString(xml, "image/svg+xml");
    expect(doc.getElementsByTagName("parsererror")).toHaveLength(0);
    const root = doc.documentElement;
    expect(root.namespaceURI).toBe(SVG_NS);
    expect(root.getAttribute("viewBox")).toBe("0 0 300 200");
    expect(doc.getElementsByTagName("img")).toHaveLength(0);
    const texts = Array.from(doc.getElementsByTagName("text"), (t) => t.textContent);
    expect(texts).toEqual(["20", EVIL, "a & b"]);
    expect(doc.querySelector("g.lstmviz-axis")).not.toBeNull();
    expect(doc.querySelector('g[opacity="0.4"] > rect')?.getAttribute("fill")).toBe("green");
    const bold = doc.getElementsByTagName("text")[1];
    expect(bold.getAttribute("font-weight")).toBe("600");
    expect(bold.getAttribute("font-family")).toBe('"Segoe UI", sans-serif');
  });

  it("exportFigure draws a laid-out view to SVG bytes", async () => {
    const root = explorerDom();
    const result = await exportFigure(root, { format: "svg", view: "heatmap" });
    expect(result.mime).toBe("image/svg+xml");
    expect([result.width, result.height]).toEqual([400, 150]);
    const xml = new TextDecoder().decode(result.bytes);
    const doc = new DOMParser().parseFromString(xml, "image/svg+xml");
    const axis = doc.querySelector("g.lstmviz-axis");
    expect(axis?.textContent).toBe("10");
    // the overlay sits where it is on screen, relative to the view
    const nested = doc.documentElement.querySelector("svg");
    expect([nested?.getAttribute("x"), nested?.getAttribute("y")]).toEqual(["10", "10"]);
  });
});

describe("answerExportRequest", () => {
  const ask = async (el: HTMLElement, msg: unknown) => {
    const replies: Array<[Record<string, unknown>, ArrayBuffer[]]> = [];
    const handled = await answerExportRequest(el, msg, (c, b) => replies.push([c, b]));
    return { handled, replies };
  };

  it("ignores other messages", async () => {
    const { handled, replies } = await ask(document.createElement("div"), { type: "something-else" });
    expect(handled).toBe(false);
    expect(replies).toEqual([]);
  });

  it("replies with the bytes of the figure", async () => {
    const el = document.createElement("div");
    el.append(explorerDom());
    document.body.append(el);
    const { replies } = await ask(el, { type: "lstmviz-export", id: "r1", format: "svg", view: null, scale: 2 });
    expect(replies).toHaveLength(1);
    const [content, buffers] = replies[0];
    expect(content).toMatchObject({ type: RESULT_TYPE, id: "r1", ok: true, mime: "image/svg+xml" });
    expect([content.width, content.height]).toEqual([400, 300]);
    expect(buffers).toHaveLength(1);
    expect(new TextDecoder().decode(buffers[0])).toContain("<svg");
  });

  it("a hidden view answers late, so that a visible one answers first", async () => {
    vi.useFakeTimers();
    try {
      const el = document.createElement("div");
      const root = document.createElement("div");
      root.className = "lstmviz"; // never laid out: a zero box
      el.append(root);
      const replies: Array<Record<string, unknown>> = [];
      const done = answerExportRequest(el, { type: "lstmviz-export", id: "h", format: "svg" }, (c) => replies.push(c));
      await vi.advanceTimersByTimeAsync(HIDDEN_REPLY_DELAY_MS - 10);
      expect(replies).toEqual([]);
      await vi.advanceTimersByTimeAsync(20 + 250); // + the two settle frames before drawing
      await done;
      expect(replies[0]).toMatchObject({ id: "h", ok: false, code: "error" });
      expect(String(replies[0].error)).toContain("hidden");
    } finally {
      vi.useRealTimers();
    }
  });

  it("reports unknown views, error panels and bad requests as errors", async () => {
    const el = document.createElement("div");
    el.append(explorerDom());
    let { replies } = await ask(el, { type: "lstmviz-export", id: "r2", format: "png", view: "nope" });
    expect(replies[0][0]).toMatchObject({ id: "r2", ok: false, code: "unknown-view" });
    expect(String(replies[0][0].error)).toContain('available views: "heatmap", "gates"');

    const broken = document.createElement("div");
    broken.innerHTML = '<div class="lstmviz-error"><div class="lstmviz-error-message">bad payload</div></div>';
    ({ replies } = await ask(broken, { type: "lstmviz-export", id: "r3", format: "svg" }));
    expect(replies[0][0]).toMatchObject({ id: "r3", ok: false, code: "error" });
    expect(String(replies[0][0].error)).toContain("bad payload");

    ({ replies } = await ask(el, { type: "lstmviz-export", id: "r4", format: "gif" }));
    expect(replies[0][0]).toMatchObject({ id: "r4", ok: false, code: "bad-request" });
  });
});

describe("download buttons", () => {
  it("download the explorer as an SVG named after the model and step", async () => {
    const root = explorerDom();
    const header = document.createElement("div");
    root.prepend(header);
    const payload = decodePayload(makePayload());
    const store = new Store(
      {
        timestep: 3,
        sample: 0,
        layer: "lstm",
        quantity: "h",
        selectedUnits: [],
        epoch: 0,
        hoverUnit: null,
        window: [0, payload.nSteps],
        brush: null,
        sortMode: "natural",
        playing: false,
        playSpeed: 5,
      },
      (s) => s,
    );
    const stop = createDownload(header, store, payload);
    const buttons = header.querySelectorAll<HTMLButtonElement>("button.lstmviz-download");
    expect(Array.from(buttons, (b) => [b.textContent, b.dataset.format])).toEqual([
      ["PNG", "png"],
      ["SVG", "svg"],
    ]);
    expect(header.querySelector(".lstmviz-downloads")?.getAttribute("data-lstmviz-export")).toBe("skip");

    const blobs: Blob[] = [];
    const names: string[] = [];
    URL.createObjectURL = vi.fn((b: Blob) => {
      blobs.push(b);
      return "blob:fake";
    }) as typeof URL.createObjectURL;
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      names.push(this.download);
    });
    buttons[1].click();
    await vi.waitFor(() => expect(names).toEqual(["toy-t3.svg"]));
    expect(blobs[0].type).toBe("image/svg+xml");
    const xml = await blobs[0].text();
    expect(xml).toContain("lstmviz-axis");
    expect(xml).not.toContain("lstmviz-download"); // the buttons leave themselves out
    stop();
    expect(header.querySelector(".lstmviz-download")).toBeNull();
  });
});
