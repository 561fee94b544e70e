// The package's TypeScript types: code written against SPEC section 10 compiles under
// `tsc --strict`, and misuse is rejected (each marked line of usage-wrong.ts is an error).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { linkPackage, repoRoot } from './helpers.mjs';

const tsc = path.join(repoRoot, 'tests', 'node_modules', 'typescript', 'bin', 'tsc');
const typesDir = path.join(repoRoot, 'tests', 'node', 'types');
linkPackage();

// tsc takes either a project or files: a per-run tsconfig extending the shared one names the file
// under test; it is removed when the test process exits.
function run(file, compilerOptions = {}) {
  const config = path.join(typesDir, `tsconfig.${path.basename(file, '.ts')}.json`);
  fs.writeFileSync(config, JSON.stringify({ extends: './tsconfig.json', compilerOptions, files: [file] }));
  process.on('exit', () => fs.rmSync(config, { force: true }));
  return spawnSync(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { encoding: 'utf8', cwd: typesDir });
}

test('SPEC-shaped usage compiles under --strict', () => {
  const result = run('usage.ts');
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('misuse does not compile, line by line', () => {
  const result = run('usage-wrong.ts');
  assert.notEqual(result.status, 0);
  const source = fs.readFileSync(path.join(typesDir, 'usage-wrong.ts'), 'utf8').split('\n');
  const expected = source.flatMap((line, i) => (line.includes('expect-error') ? [i + 1] : []));
  const reported = [...result.stdout.matchAll(/usage-wrong\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
  assert.deepEqual([...new Set(reported)].sort((a, b) => a - b), expected, result.stdout);
});

test('the browser entry types (bundler resolution) are asynchronous and take a File', () => {
  const result = run('usage-browser.ts', { module: 'esnext', moduleResolution: 'bundler' });
  assert.equal(result.status, 0, result.stdout + result.stderr);
});
