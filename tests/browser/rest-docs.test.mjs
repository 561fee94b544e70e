// The gateway's interactive REST reference (`/docs`) in headless Chromium, served by the real
// gateway binary: Swagger UI renders the operations of `/openapi.json`, every request the page
// makes goes to the gateway itself (the assets are vendored; nothing comes from elsewhere), and
// "Try it out" calls the API on the same origin.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchChromium, openPage } from './chromium.mjs';
import { startGateway } from './gateway.mjs';

let server;
let browser;
before(async () => {
  server = await startGateway();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('/docs renders the OpenAPI operations from this origin only', async () => {
  const { page, problems } = await openPage(browser, 'about:blank');
  const origins = new Set();
  page.on('request', (request) => origins.add(new URL(request.url()).origin));
  await page.goto(`${server.url}/docs`);

  // An operation of SPEC section 5, by its path as Swagger UI shows it.
  const operation = page.locator('.opblock', { hasText: '/mtls/account/{account}/certificates/by-file' }).first();
  await operation.waitFor({ timeout: 30_000 });
  assert.match(await operation.textContent(), /POST/);
  assert.ok(await page.locator('.opblock-summary-path', { hasText: '/api/account/{account}/configuration/ac-common/mtls' }).count() > 0);

  // "Try it out" on an operation without parameters reaches the gateway here.
  const health = page.locator('.opblock', { hasText: '/healthz' }).first();
  await health.locator('.opblock-summary').click();
  await health.getByRole('button', { name: 'Try it out' }).click();
  const answered = page.waitForResponse((response) => response.url() === `${server.url}/healthz`);
  await health.getByRole('button', { name: 'Execute' }).click();
  assert.equal((await answered).status(), 200);

  assert.deepEqual([...origins], [server.url], 'every request went to the gateway');
  assert.deepEqual(problems, []);
});
