/**
 * The dashboard in a real browser: Debian's Chromium (/usr/bin/chromium,
 * never a downloaded one) driven by playwright-core against a real
 * `keepwire serve`, a real CLOSE-WAIT leak in a child process, and a real
 * reference agent. Screenshots of each view go to test-output/dashboard/.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CLI, makeDataDir, type ServeProcess, startServe } from '../support/keepwire-process.ts';

const OUT = new URL('../../test-output/dashboard/', import.meta.url).pathname;
const LEAKS = 3;

// Accepts connections and never closes them: each one ends in CLOSE-WAIT
// once its client closes. Named so the holders table can be checked.
const LEAKER = `
process.title = 'kw-leaker';
const held = [];
const server = require('node:net').createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => held.push(socket));
server.listen({ host: '127.0.0.1', port: 0 }, () => process.stdout.write(server.address().port + '\\n'));
`;

let serve: ServeProcess;
let browser: Browser;
let leaker: ChildProcess;
let agent: ChildProcess | undefined;
const clients: Socket[] = [];

before(async () => {
  mkdirSync(OUT, { recursive: true });
  serve = await startServe({ env: { KEEPWIRE_WATCH__INTERVAL_MS: '500' } });
  leaker = spawn(process.execPath, ['-e', LEAKER], { stdio: ['ignore', 'pipe', 'inherit'] });
  // launch() gives Chromium a fresh temporary --user-data-dir of its own, removed on close.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  for (const client of clients) client.destroy();
  await browser?.close();
  agent?.kill('SIGTERM');
  leaker?.kill('SIGKILL');
  await serve?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field
type Json = any;

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${serve.adminUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${serve.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

/** Opens the page with request and console recording, and connects with the admin token. */
async function openPage(options: { colorScheme?: 'light' | 'dark'; width?: number } = {}) {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${serve.adminUrl}/`);
  await page.getByLabel('Admin token').fill(serve.adminToken);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
  await page.locator('#status', { hasText: 'live' }).waitFor();
  return { page, requests, errors };
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

test('the page loads with no console error, asks for the token, and never leaves the host', async () => {
  const { page, requests, errors } = await openPage();
  // The token stays in sessionStorage and out of every URL.
  assert.equal(
    await page.evaluate(() => sessionStorage.getItem('keepwire.adminToken')),
    serve.adminToken,
  );
  await page.locator('#states-chart path[data-series="LISTEN"]').waitFor({ state: 'attached' });
  await page.getByRole('button', { name: 'Shipping', exact: true }).click();
  await page.locator('#sinks tbody tr td', { hasText: 'out' }).first().waitFor();
  // Events posted to the intake show as a rate once two samples bracket them.
  const intake = `http://${readFileSync(join(serve.dataDir, 'events.addr'), 'utf8').trim()}`;
  const posted = await fetch(`${intake}/v1/events`, { method: 'POST', body: '{"n":1}\n{"n":2}\n' });
  assert.equal(posted.status, 200);
  await page.locator('#sources tbody tr td', { hasText: 'events' }).waitFor();
  await page.locator('#rate-chart path[data-series="out out"]').waitFor({ state: 'attached' });
  await shot(page, 'shipping');
  assert.deepEqual(errors, []);
  assert.ok(requests.length >= 5, requests.join('\n'));
  for (const url of requests) {
    assert.equal(new URL(url).origin, serve.adminUrl, url);
    assert.ok(!url.includes(serve.adminToken), 'the token is never in a URL');
  }
  await page.context().close();
});

test('a CLOSE-WAIT leak shows in the chart and in the holders table with its process', async () => {
  const [chunk] = (await once(leaker.stdout!, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());
  for (let i = 0; i < LEAKS; i++) {
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    clients.push(client);
    client.end(); // our FIN: the leaker's side enters CLOSE-WAIT and stays there
  }
  const { page, errors } = await openPage();
  const row = page.locator(`#holders tbody tr[data-pid="${leaker.pid}"]`);
  await row.waitFor({ timeout: 20_000 });
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[0], 'kw-leaker');
  assert.equal(cells[1], String(leaker.pid));
  assert.ok(Number(cells[2]) >= LEAKS, `sockets: ${cells[2]}`);
  assert.match(cells[4]!, /^127\.0\.0\.1:\d+(, 127\.0\.0\.1:\d+)*$/);
  for (const chart of ['#states-chart', '#close-wait-chart']) {
    const closeWait = page.locator(`${chart} path[data-series="CLOSE_WAIT"]`);
    assert.ok(Number(await closeWait.getAttribute('data-last')) >= LEAKS, chart);
  }
  await page.locator('#sysctl tbody tr').first().waitFor();
  await shot(page, 'connections');
  assert.deepEqual(errors, []);
  await page.context().close();

  // A phone-sized window in dark mode.
  const phone = await openPage({ colorScheme: 'dark', width: 390 });
  await phone.page
    .locator(`#holders tbody tr[data-pid="${leaker.pid}"]`)
    .waitFor({ timeout: 20_000 });
  await shot(phone.page, 'connections-phone-dark');
  assert.deepEqual(phone.errors, []);
  await phone.page.context().close();
});

test('a command created from the form reaches success through a reference agent, and the fleet shows its diagnosis', async () => {
  const enrolled = await admin('POST', '/v1/agents', { name: 'browser-agent', groups: ['web'] });
  assert.equal(enrolled.status, 201);
  const { id, token } = enrolled.body as { id: string; token: string };
  const agentsUrl = `http://${readFileSync(join(serve.dataDir, 'agents.addr'), 'utf8').trim()}`;
  agent = spawn(
    process.execPath,
    [
      CLI,
      'agent',
      '--server',
      agentsUrl,
      '--token',
      token,
      '--state-dir',
      makeDataDir('kw-agent-'),
      '--mode',
      'sse',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );

  const { page, errors } = await openPage();
  await page.getByRole('button', { name: 'Commands', exact: true }).click();
  const agentRow = page.locator(`#agents tbody tr[data-target="agent:${id}"]`);
  await agentRow.locator('td', { hasText: /^connected$/ }).waitFor({ timeout: 20_000 });
  await agentRow.click(); // fills the target field
  assert.equal(await page.getByLabel('Target').inputValue(), `agent:${id}`);
  await page.getByLabel('Action').fill('ping');
  await page.getByLabel('Arguments (JSON)').fill('{"echo": "from the browser"}');
  await page.getByLabel('Timeout (s)').fill('30');
  await page.getByRole('button', { name: 'Create command', exact: true }).click();
  await page.locator('#cmd-result', { hasText: 'created 1 command' }).waitFor();
  const done = page.locator('#commands tbody tr[data-status="success"]', { hasText: 'ping' });
  await done.waitFor({ timeout: 20_000 });
  assert.match(
    (await done.locator('td').allTextContents()).join(' '),
    /browser-agent.*ping.*success.*pong/,
  );
  const listed = await admin('GET', `/v1/commands?target=agent:${id}`);
  const ping = (listed.body.commands as { action: { args: unknown }; status: string }[])[0]!;
  assert.deepEqual([ping.status, ping.action.args], ['success', { echo: 'from the browser' }]);

  // A diagnosis from the same form; the Fleet view shows the leak this agent's host has.
  await page.getByLabel('Action').fill('sockets.diagnose');
  await page.getByLabel('Arguments (JSON)').fill('{"samples": 2, "intervalMs": 200}');
  await page.getByRole('button', { name: 'Create command', exact: true }).click();
  await page
    .locator('#commands tbody tr[data-status="success"]', { hasText: 'sockets.diagnose' })
    .waitFor({ timeout: 30_000 });
  await page.getByLabel('Status').selectOption('success');
  await page.locator('#commands tbody tr[data-status="success"]').nth(1).waitFor();
  await shot(page, 'commands');
  await page.getByRole('button', { name: 'Fleet', exact: true }).click();
  const fleetRow = page.locator('#fleet tbody tr', { hasText: 'browser-agent' });
  await fleetRow.locator('td', { hasText: 'close-wait-leak' }).waitFor();
  const fleetCells = await fleetRow.locator('td').allTextContents();
  assert.ok(Number(fleetCells[2]) >= LEAKS, `fleet CLOSE-WAIT: ${fleetCells[2]}`);
  await shot(page, 'fleet');
  assert.deepEqual(errors, []);
  await page.context().close();

  // The commands view on a phone-sized window in dark mode.
  const phone = await openPage({ colorScheme: 'dark', width: 390 });
  await phone.page.getByRole('button', { name: 'Commands', exact: true }).click();
  await phone.page.locator('#commands tbody tr[data-status="success"]').nth(1).waitFor();
  await shot(phone.page, 'commands-phone-dark');
  assert.deepEqual(phone.errors, []);
  await phone.page.context().close();
});
