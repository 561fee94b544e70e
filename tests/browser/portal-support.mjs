// What every portal state is checked for: axe-core finds no violation of any impact, nothing
// scrolls sideways at the viewport's width, and a screenshot of the state is kept under
// tests/test-artifacts/portal/ (gitignored) for a person to look at.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { repoRoot } from '../node/helpers.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const ARTIFACTS = path.join(repoRoot, 'tests', 'test-artifacts', 'portal');

export const WIDTHS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
];

/**
 * Checks the page in its current state: axe-core (evaluated over the DevTools protocol, so the
 * page's Content-Security-Policy stays as served), horizontal overflow, and a full-page
 * screenshot named `<state>-<width>.png`.
 */
export async function checkState(page, state) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const { width } = page.viewportSize();
  await page.screenshot({ path: path.join(ARTIFACTS, `${state}-${width}.png`), fullPage: true });
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe-core in state "${state}" at ${width} px`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `state "${state}" at ${width} px scrolls sideways by ${overflow} px`);
}

/**
 * Clears the feedback region `id`, runs `action`, and resolves to the text that then appears
 * there once the portal is no longer working on it.
 */
export async function feedback(page, id, action) {
  await page.$eval(`#${id}`, (node) => node.replaceChildren());
  await action();
  // Key generation and P12 building run in the page's WebAssembly: on a loaded machine they
  // took over Playwright's default 30 s once (CI failure). A bound, not a speed assertion.
  await page.waitForFunction((selector) => {
    const node = document.querySelector(selector);
    return node.textContent.trim() !== '' && !node.querySelector('.busy');
  }, `#${id}`, { timeout: 180_000 });
  return (await page.textContent(`#${id}`)).trim();
}
