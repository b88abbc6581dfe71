// Copies the two third-party scripts that `LSTMExplorer.save_html()` inlines into a standalone
// page (lstmviz_widget/widget/html.py) next to the bundle in lstmviz_widget/static/:
// require.js (npm `requirejs`) and the widget HTML manager's AMD embedder
// (npm `@jupyter-widgets/html-manager`, dist/embed-amd.js, 1.0.x for ipywidgets 8.1).
// Run by `npm run build`; static/ is build output (git-ignored, shipped in the wheel).
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "lstmviz_widget", "static");
mkdirSync(out, { recursive: true });

const files = [
  ["requirejs/require.js", "require.js"],
  ["@jupyter-widgets/html-manager/dist/embed-amd.js", "embed-amd.js"],
];
for (const [source, name] of files) {
  copyFileSync(require.resolve(source), join(out, name));
  console.log(`copied ${source} -> lstmviz_widget/static/${name}`);
}
