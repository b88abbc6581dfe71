// The shape of js/ (docs/architecture.md), enforced: `npm run lint` (scripts/test.sh runs it).
//   widget.ts, explorer.ts … top level: the entry and the state (store, model, codecs, selection, player)
//   math/    pure: no DOM, no store, nothing from render/, parts/, views/, export/
//   render/  drawing helpers (DOM, canvas, frames): math/ only besides themselves
//   parts/   building blocks of views: never a view
//   export/  figures (scene, svg, png, protocol): never a view or a part
//   views/   one create* factory per data-view: never another view
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const VIEW_TO_VIEW = {
  group: ["./*", "../views/*"],
  message: "a view never imports another view: share state through the store, shared code goes to parts/ or math/",
};
const NO_VIEWS = (where) => ({
  group: ["**/views/*", "**/explorer", "**/widget"],
  message: `${where} never imports views (or the explorer that mounts them)`,
});
const NO_UPPER = (where, dirs) => ({
  group: dirs.map((d) => `../${d}/*`).concat(dirs.map((d) => `../../${d}/*`)),
  message: `${where} may not import ${dirs.join("/, ")}/ (see eslint.config.js)`,
});
const DOM_GLOBALS = [
  "document",
  "window",
  "navigator",
  "getComputedStyle",
  "requestAnimationFrame",
  "cancelAnimationFrame",
  "ResizeObserver",
  "HTMLElement",
  "HTMLCanvasElement",
  "Image",
].map((name) => ({ name, message: "math/ is pure: no DOM (drawing goes to render/ or parts/)" }));

const FILE_MAX = 400; // lines of code (blank lines and comments aside), tests aside
const FUNCTION_MAX = 150;
const size = (max) => ({ max, skipBlankLines: true, skipComments: true });

/**
 * Size debt, as a ratchet: files whose create* closure (or file) is still over the limits get
 * their current size as their own limit, so they can only shrink. New code may not join this
 * list; split a file below the limits and take it off. `fn`: longest function, `file`: lines.
 */
const SIZE_DEBT = {};

export default tseslint.config(
  { ignores: ["node_modules/**", "lstmviz_widget/static/**", "artifacts/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["js/**/*.ts"],
    rules: {
      // verbatimModuleSyntax already forces `import type`; unused code is tsc's (noUnusedLocals)
      "@typescript-eslint/no-unused-vars": "off",
      // a view's `let track` is read by its draw callback before createTrack returns
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      "max-lines": ["error", size(FILE_MAX)],
      "max-lines-per-function": ["error", { ...size(FUNCTION_MAX), IIFEs: true }],
    },
  },
  {
    files: ["js/views/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", { patterns: [VIEW_TO_VIEW] }],
    },
  },
  {
    files: ["js/parts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [NO_VIEWS("parts/"), NO_UPPER("parts/", ["export"])] },
      ],
    },
  },
  {
    files: ["js/export/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        { patterns: [NO_VIEWS("export/"), NO_UPPER("export/", ["parts"])] },
      ],
    },
  },
  {
    files: ["js/render/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [NO_VIEWS("render/"), NO_UPPER("render/", ["parts", "export"])],
          paths: [{ name: "../store", message: "render/ draws; it does not read the store", allowTypeImports: true }],
        },
      ],
    },
  },
  {
    files: ["js/math/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [NO_VIEWS("math/"), NO_UPPER("math/", ["render", "parts", "export"])],
          paths: [
            { name: "../store", message: "math/ is pure: no store (types are fine)", allowTypeImports: true },
            ...["../keyboard", "../player", "../selection"].map((name) => ({
              name,
              message: "math/ is pure: it imports only math/, codecs and model types",
            })),
            { name: "d3-selection", message: "math/ is pure: no DOM" },
          ],
        },
      ],
      "no-restricted-globals": ["error", ...DOM_GLOBALS],
    },
  },
  {
    files: ["js/**/*.test.ts", "js/testing.ts", "js/canvas-testing.ts"],
    rules: {
      "max-lines": "off",
      "max-lines-per-function": "off",
    },
  },
  ...Object.entries(SIZE_DEBT).map(([file, debt]) => ({
    files: [file],
    rules: {
      "max-lines": ["error", size(debt.file ?? FILE_MAX)],
      "max-lines-per-function": ["error", { ...size(debt.fn ?? FUNCTION_MAX), IIFEs: true }],
    },
  })),
);
