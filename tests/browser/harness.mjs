// Test harness for the browser tests: runs the real `switchboard` binary (all-in-one on a fresh
// data directory) and Debian's Chromium. Nothing is mocked and nothing is skipped: a missing
// binary or browser fails the run with the reason.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const ADMIN_EMAIL = 'admin@northwind.example';
export const ADMIN_PASSWORD = 'correct-horse-battery';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = process.env.SWITCHBOARD_ARTIFACTS ?? join(import.meta.dirname, 'artifacts');

const BINARY = process.env.SWITCHBOARD_BIN;

/** Returns a TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `condition` every 50 ms until it returns truthy; throws `what` after `timeout` ms. */
export async function waitFor(what, condition, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Calls the REST API of `server` (with a bearer `token` when given); returns the JSON body, throws on a non-2xx. */
export async function api(server, method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${server.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** A running all-in-one Switchboard that can be killed and started again on the same data. */
export class Switchboard {
  constructor(dataDir, port, env = {}) {
    this.dataDir = dataDir;
    this.port = port;
    this.env = env;
    this.base = `http://127.0.0.1:${port}`;
    this.child = null;
  }

  /** Starts a fresh server; `env` adds settings (e.g. `{ SWITCHBOARD_WS_REPLAY_LIMIT: '20' }`). */
  static async start(env = {}) {
    if (!BINARY || !existsSync(BINARY)) {
      throw new Error(`SWITCHBOARD_BIN must name the built switchboard binary (got ${BINARY})`);
    }
    const server = new Switchboard(mkdtempSync(join(tmpdir(), 'switchboard-browser-')), await freePort(), env);
    await server.run();
    return server;
  }

  async run() {
    this.child = spawn(BINARY, [], {
      env: {
        PATH: process.env.PATH,
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
        SWITCHBOARD_DATA_DIR: this.dataDir,
        SWITCHBOARD_HTTP_ADDR: `127.0.0.1:${this.port}`,
        SWITCHBOARD_BOOTSTRAP_EMAIL: ADMIN_EMAIL,
        SWITCHBOARD_BOOTSTRAP_PASSWORD: ADMIN_PASSWORD,
        // Local runs serve gateway/web/* from disk (edits show without a rebuild); CI leaves it
        // unset and tests the copies embedded in the binary.
        ...(process.env.SWITCHBOARD_WEB_DIR ? { SWITCHBOARD_WEB_DIR: process.env.SWITCHBOARD_WEB_DIR } : {}),
        ...this.env,
      },
      stdio: ['ignore', 'ignore', process.env.TEST_LOG ? 'inherit' : 'ignore'],
    });
    const exited = new Promise((_, reject) => this.child.once('exit', (code) => reject(new Error(`switchboard exited with ${code}`))));
    exited.catch(() => {});
    await Promise.race([
      waitFor('switchboard /healthz', async () => (await fetch(`${this.base}/healthz`)).ok, 60_000),
      exited,
    ]);
  }

  /** SIGKILL: no goodbye to any socket, as in a crash. */
  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  async stop() {
    await this.kill();
  }
}

/** Launches Debian's Chromium headless with the flags this machine needs. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects page errors so a test can assert there were none. */
export function watchErrors(page, errors) {
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(message.text())) {
      errors.push(`${page.url()}: console: ${message.text()}`);
    }
  });
}

/**
 * Sends a visitor's first message from an open, connected widget. While nobody can answer the
 * widget shows the message form instead of the chat box: the message goes with `email` then.
 */
export async function widgetFirstMessage(page, text, email = 'visitor@example.com') {
  const offline = await waitFor('the widget to know whether someone can answer', () =>
    page.evaluate(() => {
      const state = window.SwitchboardWidget?.state();
      return state && state.availability ? { form: state.offlineForm } : null;
    }),
  );
  if (offline.form) {
    await page.getByTestId('sb-offline-text').fill(text);
    await page.getByTestId('sb-offline-email').fill(email);
    await page.getByTestId('sb-offline-submit').click();
    await page.getByTestId('sb-offline-sent').filter({ hasText: email }).waitFor();
  } else {
    await page.getByTestId('sb-input').fill(text);
    await page.getByTestId('sb-send').click();
  }
  return offline.form;
}
