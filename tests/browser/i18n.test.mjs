// The widget speaks Chinese when the browser does, and switches language on request.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, Switchboard, launchBrowser, watchErrors } from './harness.mjs';

let server;
let browser;
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the widget follows the browser language and switches between Chinese and English', async () => {
  server = await Switchboard.start();
  browser = await launchBrowser();
  const errors = [];
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(server.base);
  await page.getByTestId('sb-launcher').click();
  await page.locator('[data-testid="sb-connection"][data-state="connected"]').waitFor();
  await page.getByText('在线客服').first().waitFor();
  // Let the panel's opening transition finish before the picture.
  await page.getByTestId('sb-panel').evaluate((panel) =>
    Promise.all(panel.getAnimations({ subtree: true }).map((animation) => animation.finished)),
  );
  await page.waitForFunction(() => {
    const host = [...document.body.children].find((node) => node.shadowRoot);
    const panel = host?.shadowRoot.querySelector('[data-testid="sb-panel"]');
    return panel && getComputedStyle(panel).opacity === '1';
  });
  await page.screenshot({ path: join(ARTIFACTS, 'visitor-widget-zh-phone.png') });
  await page.getByTestId('sb-lang').click();
  await page.getByText('Chat with us').first().waitFor();
  assert.equal(await page.getByText('在线客服').count(), 0, 'no Chinese left after switching to English');
  assert.deepEqual(errors, []);
});
