/**
 * The one tooltip placement every view uses: `lines` next to the pointer, 14 px right of it
 * and 12 px below, flipped to the left / above when it would leave the plot box.
 */
import { html } from "../render/dom";

export function placeTooltip(tooltip: HTMLElement, plot: Element, e: MouseEvent, lines: readonly string[]): void {
  tooltip.replaceChildren(...lines.map((l) => html("div", undefined, l)));
  tooltip.hidden = false;
  const r = plot.getBoundingClientRect();
  const px = e.clientX - r.left;
  const py = e.clientY - r.top;
  const tw = tooltip.offsetWidth || 160;
  const th = tooltip.offsetHeight || 40;
  const left = px + 14 + tw > r.width ? px - 14 - tw : px + 14;
  const top = py + 12 + th > r.height ? py - 12 - th : py + 12;
  tooltip.style.left = `${Math.max(0, left)}px`;
  tooltip.style.top = `${Math.max(0, top)}px`;
}
