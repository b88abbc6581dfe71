// What the explorer's heatmap canvas shows, for tests/lab/explorer.py: painted only when the
// canvas has a 2D context and at least half of its (sampled) pixels are opaque and differ from
// the widget's background. No canvas, no 2D context, a blank or cleared canvas, or one filled
// with the background colour are each "not painted", with the reason in `why`.
(root) => {
  const c = root.querySelector('canvas.lstmviz-heatmap-canvas');
  if (!c) return { painted: false, why: 'no canvas.lstmviz-heatmap-canvas in the explorer' };
  const box = c.getBoundingClientRect();
  if (!c.width || !c.height || !box.width || !box.height) {
    return { painted: false, why: `not laid out: ${c.width}×${c.height} px in a ${box.width}×${box.height} box` };
  }
  let ctx = null;
  try { ctx = c.getContext('2d'); } catch (e) { return { painted: false, why: `getContext('2d') threw ${e}` }; }
  if (!ctx) return { painted: false, why: "no 2D context (getContext('2d') is null)" };
  // the background behind the canvas: the widget's --lstmviz-bg, resolved by a 1×1 canvas
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = '#ffffff';
  probe.fillStyle = getComputedStyle(root).getPropertyValue('--lstmviz-bg').trim() || '#ffffff';
  probe.fillRect(0, 0, 1, 1);
  const bg = probe.getImageData(0, 0, 1, 1).data;
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let sampled = 0;
  let painted = 0;
  for (let i = 0; i < d.length; i += 4 * 7) {
    sampled++;
    if (d[i + 3] !== 255) continue;
    if (Math.abs(d[i] - bg[0]) > 3 || Math.abs(d[i + 1] - bg[1]) > 3 || Math.abs(d[i + 2] - bg[2]) > 3) painted++;
  }
  const fraction = sampled ? painted / sampled : 0;
  return {
    painted: fraction >= 0.5,
    fraction,
    why: `${painted} of ${sampled} sampled pixels opaque and unlike the background rgb(${bg[0]}, ${bg[1]}, ${bg[2]})`,
  };
}
