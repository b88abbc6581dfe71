/**
 * Health of the current layer (lstmviz_widget.analysis.health): the findings as plain lines,
 * one clickable chip per group of units ("forget gate saturated · 12 units": a click selects
 * those units, a second click while they are the selection clears it; its tooltip lists
 * them), a green "no problems found" line when there are no
 * findings, and the layer's replay-fidelity badge. Hidden for layers without health.
 */
import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { html } from "../render/dom";
import type { HealthPayload } from "../model";
import { createLifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";
import { chipSelection, sameUnits } from "../selection";
import { layerTitle } from "../parts/labels";
import { fidelityText, FIDELITY_OK } from "../parts/labels";

/** "units 1, 4, 7, … (12)": the units of a group, shortened for a tooltip. */
export function unitList(units: readonly number[], max = 24): string {
  if (units.length === 0) return "no units";
  const head = units.slice(0, max).join(", ");
  return `unit${units.length === 1 ? "" : "s"} ${head}${units.length > max ? `, … (${units.length})` : ""}`;
}

/** The text of a group's chip: "forget gate saturated · 12 units". */
export function chipText(label: string, n: number): string {
  return `${label} · ${n} unit${n === 1 ? "" : "s"}`;
}

export function createHealth(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => l.health)) return null;

  const root = html("div", "lstmviz-view lstmviz-card lstmviz-health");
  root.dataset.view = "health";
  // head: the shared card classes (js/parts/card.ts): titles + controls (the fidelity badge)
  const head = html("div", "lstmviz-card-head");
  const titles = html("div", "lstmviz-card-titles");
  const title = html("div", "lstmviz-card-title");
  titles.append(title);
  const controls = html("div", "lstmviz-card-controls");
  const badge = html("span", "lstmviz-health-fidelity");
  controls.append(badge);
  head.append(titles, controls);
  const ok = html("div", "lstmviz-health-ok", "✓ no problems found");
  const list = html("ul", "lstmviz-health-findings");
  const chips = html("div", "lstmviz-health-chips");
  const stats = html("div", "lstmviz-health-stats");
  root.append(head, ok, list, chips, stats);
  container.append(root);

  let shown: DecodedLayer | null = null;
  let chipEls: Array<{ el: HTMLButtonElement; units: number[] }> = [];

  const markChips = (): void => {
    const sel = store.state.selectedUnits;
    for (const c of chipEls) {
      const on = c.units.length > 0 && sameUnits(sel, c.units);
      c.el.classList.toggle("active", on);
      c.el.setAttribute("aria-pressed", String(on));
    }
  };

  const build = (layer: DecodedLayer, h: HealthPayload): void => {
    title.textContent = `health · ${layerTitle(layer.name, layer.direction)}`;
    ok.hidden = h.findings.length > 0;
    list.hidden = h.findings.length === 0;
    list.replaceChildren(...h.findings.map((f) => html("li", undefined, f)));
    chipEls = h.groups.map((g) => {
      const el = html("button", `lstmviz-chip lstmviz-chip-${g.kind.replace(/[^a-z0-9_-]/gi, "") || "group"}`);
      el.type = "button";
      el.textContent = chipText(g.label, g.units.length);
      el.title = `${unitList(g.units)}\nclick: select them (again: clear the selection)`;
      el.disabled = g.units.length === 0;
      return { el, units: g.units };
    });
    chips.replaceChildren(...chipEls.map((c) => c.el));
    chips.hidden = chipEls.length === 0;
    const mv = Number.isFinite(h.mean_variance) ? h.mean_variance.toExponential(2) : "n/a";
    stats.textContent = `mean variance of h over time: ${mv}${h.collapsed ? " (collapsed)" : ""}`;

    const fid = layer.fidelity;
    const good = Number.isFinite(fid) && fid <= FIDELITY_OK;
    badge.textContent = fidelityText(fid);
    badge.classList.toggle("ok", good);
    badge.classList.toggle("bad", !good);
    badge.dataset.ok = String(good);
    badge.title =
      `Replay fidelity of layer ${layer.name}: max |h_replayed − h_keras| over the capture, the largest ` +
      `difference between the hidden states recomputed step by step from the weights (which give ` +
      `the gates and cell states shown) and the layer's own output. Green when ≤ ` +
      `${FIDELITY_OK.toExponential(0)}; red means the drawn gates may not match what Keras computed.`;
    markChips();
  };

  const update = (): void => {
    const layer = findLayer(payload, store.state.layer);
    if (!layer.health) {
      root.hidden = true;
      shown = null;
      return;
    }
    root.hidden = false;
    if (shown !== layer) {
      build(layer, layer.health);
      shown = layer;
    }
  };

  const chipOf = (e: Event): { el: HTMLButtonElement; units: number[] } | undefined => {
    const target = e.target instanceof Element ? e.target.closest("button.lstmviz-chip") : null;
    return chipEls.find((c) => c.el === target);
  };
  const onClick = (e: MouseEvent): void => {
    const c = chipOf(e);
    if (c) store.set({ selectedUnits: chipSelection(store.state.selectedUnits, c.units) });
  };
  const life = createLifecycle(store);
  life.listen(chips, "click", onClick);
  life.subscribe((_s, changed: ReadonlySet<StateKey>) => {
    if (changed.has("layer")) update();
    if (changed.has("selectedUnits") || changed.has("layer")) markChips();
  });
  update();

  life.onDispose(() => root.remove());
  return life.dispose;
}
