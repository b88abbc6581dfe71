import { defineConfig } from "vitest/config";

// JS unit tests live beside the code in js/; DOM tests opt into jsdom with a
// `// @vitest-environment jsdom` comment at the top of the file.
export default defineConfig({
  test: {
    include: ["js/**/*.test.ts"],
    environment: "node",
  },
});
