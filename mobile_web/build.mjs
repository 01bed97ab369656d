// The only build step: copy the zxing-wasm reader (ES module, its shared chunk and the .wasm) out of
// node_modules into vendor/, where the Flask app serves it and the service worker precaches it.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "node_modules", "zxing-wasm", "dist");
const out = join(here, "vendor", "zxing");
const files = [
  ["es/reader/index.js", "es/reader/index.js"],
  ["es/share.js", "es/share.js"],
  ["reader/zxing_reader.wasm", "zxing_reader.wasm"],
];

rmSync(join(here, "vendor"), { recursive: true, force: true });
for (const [from, to] of files) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(src, from), join(out, to));
}
console.log(`copied ${files.length} zxing-wasm files to vendor/zxing`);
