// Sizes column of tests/bench/pkg-size/run.sh: what a browser downloads of the built package,
// gzip -9 per file (as a server compresses each response) and summed per part, beside the two
// libraries a portal would otherwise use, read from this folder's pinned node_modules.
// Usage: node measure.mjs PKG_DIR INSTALLED_BYTES TARBALL_BYTES
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [pkgDir, installedBytes, tarballBytes] = process.argv.slice(2);
const gzip = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const files = (dir, keep) =>
  fs.readdirSync(dir, { recursive: true })
    .map((name) => path.join(dir, name))
    .filter((file) => fs.statSync(file).isFile() && keep(file))
    .sort();
const part = (list) => ({ files: list.length, raw: list.reduce((n, f) => n + fs.statSync(f).size, 0), gzip: list.reduce((n, f) => n + gzip(f), 0) });

// The page-load part: the browser entry and the ES-module client (not its CommonJS copy or types).
const pageLoad = [path.join(pkgDir, 'web/index.js'), ...files(path.join(pkgDir, 'client'), (f) => f.endsWith('.js') && !f.includes(`${path.sep}cjs${path.sep}`))];
const wasmDir = path.join(pkgDir, 'wasm');
const modules = fs.readdirSync(wasmDir).filter((f) => f.endsWith('_bg.wasm')).map((f) => f.slice(0, -'_bg.wasm'.length)).sort();
const peer = (relative) => [path.join(import.meta.dirname, 'node_modules', relative)];

const KiB = 1024;
const rows = [
  ['page load: web/index.js + client (no wasm)', part(pageLoad), 10 * KiB],
  ...modules.map((m) => [`module ${m}: ${m}_bg.wasm + ${m}.js`, part([path.join(wasmDir, `${m}_bg.wasm`), path.join(wasmDir, `${m}.js`)]), m === 'inspector' ? 140 * KiB : null]),
];
const everything = rows.reduce((sum, [, p]) => ({ files: sum.files + p.files, raw: sum.raw + p.raw, gzip: sum.gzip + p.gzip }), { files: 0, raw: 0, gzip: 0 });
rows.push(['everything a browser can load', everything, 250 * KiB]);
rows.push(['node-forge 1.4.3 dist/forge.min.js', part(peer('node-forge/dist/forge.min.js')), null]);
rows.push(['@peculiar/x509 2.2.0 build/x509.js (UMD)', part(peer('@peculiar/x509/build/x509.js')), null]);

console.log('what a browser downloads, gzip -9 per file (KiB = 1024 bytes)');
console.log(`${'part'.padEnd(46)} ${'files'.padStart(5)} ${'raw KiB'.padStart(9)} ${'gzip KiB'.padStart(9)}   budget`);
for (const [name, p, budget] of rows) {
  const verdict = budget === null ? '' : `${(budget / KiB).toFixed(0)} KiB ${p.gzip <= budget ? 'ok' : 'OVER'}`;
  console.log(`${name.padEnd(46)} ${String(p.files).padStart(5)} ${(p.raw / KiB).toFixed(1).padStart(9)} ${(p.gzip / KiB).toFixed(1).padStart(9)}   ${verdict}`);
}
const wasmFiles = fs.readdirSync(pkgDir, { recursive: true }).filter((f) => f.endsWith('.wasm'));
const names = wasmFiles.map((f) => path.basename(f));
console.log(`\n.wasm files in the package: ${wasmFiles.join(', ')} (${new Set(names).size === names.length ? 'each once' : 'DUPLICATES'})`);
const MB = 1e6;
console.log(`npm pack tarball: ${(tarballBytes / KiB).toFixed(1)} KiB; installed (node_modules/mtls-sdk): ${(installedBytes / MB).toFixed(2)} MB, budget 1.5 MB ${installedBytes <= 1.5 * MB ? 'ok' : 'OVER'}`);
