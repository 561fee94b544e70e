// WASM-in-Node column of the inspectP12 benchmark: the built npm package (pkg/), required the
// way a Node user does, timing inspectP12 on one file.
// Usage: node bench_wasm.mjs <file> <password> <runs>. Prints one JSON line.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [file, password, runsArg] = process.argv.slice(2);
const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../pkg');
const { inspectP12 } = createRequire(import.meta.url)(pkg);
const bytes = new Uint8Array(fs.readFileSync(file));
const runs = Math.max(1, Number(runsArg));

let usable = inspectP12(bytes, password).usable; // warm-up (also compiles the module's hot code)
let total = 0;
let min = Infinity;
for (let i = 0; i < runs; i++) {
  const start = process.hrtime.bigint();
  usable = inspectP12(bytes, password).usable;
  const micros = Number(process.hrtime.bigint() - start) / 1000;
  total += micros;
  min = Math.min(min, micros);
}
console.log(JSON.stringify({ runs, meanMicros: +(total / runs).toFixed(1), minMicros: +min.toFixed(1), usable }));
