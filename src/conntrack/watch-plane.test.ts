/**
 * The watch plane in-process, on a real admin listener: a sampling failure is
 * logged and counted and never crashes anything; history and metric labels
 * stay bounded. (The happy path through a real `keepwire serve` lives in
 * test/integration/close-wait-leak.test.ts.)
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config/index.ts';
import { Lifecycle } from '../lifecycle.ts';
import { createHttpServer } from '../server/http-server.ts';
import { createLogger, createRegistry } from '../telemetry/index.ts';
import { SocketWatcher } from './socket-watcher.ts';
import { createWatchPlane } from './watch-plane.ts';

function context(env: NodeJS.ProcessEnv = {}) {
  const config = loadConfig({ env: { KEEPWIRE_WATCH__INTERVAL_MS: '100', ...env } });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ ...config.log, level: 'info' }, sink);
  const registry = createRegistry({ processMetrics: false });
  return { config, logger, registry, lifecycle: new Lifecycle(logger), lines };
}

test('a failing sample is logged and counted; routes answer 503 until a sample exists', async () => {
  const ctx = context();
  const plane = createWatchPlane(ctx, { procRoot: '/nonexistent', ssPath: '/nonexistent/ss' });
  const app = createHttpServer({ logger: ctx.logger, ...ctx.config.admin });
  plane.registerAdminRoutes!(app);
  await app.ready();
  await plane.start!();
  const errorCount = async () =>
    Number(/^keepwire_watch_sample_errors_total (\d+)$/m.exec(await ctx.registry.metrics())?.[1]);
  try {
    // Waits for two failed samples (interval 100 ms; a loaded host may take seconds).
    const deadline = Date.now() + 30_000;
    while ((await errorCount()) < 2) {
      assert.ok(Date.now() < deadline, `errors counted: ${await errorCount()}`);
      await sleep(50);
    }
    assert.ok(ctx.lines.some((line) => line.includes('"code":"WATCH_SAMPLING_FAILED"')));
    const sockets = await app.inject('/v1/sockets');
    assert.equal(sockets.statusCode, 503);
    assert.equal(sockets.json().error.code, 'WATCH_NO_SAMPLES');
    assert.equal((await app.inject('/v1/sockets/findings')).json().error.code, 'WATCH_NO_SAMPLES');
  } finally {
    // Also when an assertion failed: the sampling timer must not keep the file's process alive.
    await ctx.lifecycle.shutdown('test');
  }
  const after = await errorCount();
  await sleep(250);
  const later = await errorCount();
  assert.equal(later, after, 'the timer stopped at shutdown');
  await app.close();
});

test('history keeps historySamples samples; every state has a gauge', async () => {
  const ctx = context({ KEEPWIRE_WATCH__HISTORY_SAMPLES: '2', KEEPWIRE_WATCH__ATTRIBUTE: 'false' });
  let samples = 0;
  const watcher = new SocketWatcher(ctx.config.watch, {
    onSample: () => {
      samples += 1;
    },
    onError: (error) => assert.fail(error),
  });
  for (let i = 0; i < 3; i++) await watcher.sample();
  assert.equal(samples, 3);
  assert.equal(watcher.history.length, 2);
  assert.ok(watcher.latest!.sockets.length > 0);
  assert.equal(watcher.latest!.attributed, false);
  const { findings, samples: kept } = await watcher.findings();
  assert.equal(kept, 2);
  assert.ok(Array.isArray(findings));

  const plane = createWatchPlane(ctx);
  const app = createHttpServer({ logger: ctx.logger, ...ctx.config.admin });
  plane.registerAdminRoutes!(app);
  await plane.start!();
  try {
    // Waits for the plane's first sample (a loaded host may take seconds).
    const deadline = Date.now() + 60_000;
    while (!/^keepwire_watch_samples_total [1-9]/m.test(await ctx.registry.metrics())) {
      assert.ok(Date.now() < deadline, 'the plane never sampled');
      await sleep(50);
    }
    const metrics = await ctx.registry.metrics();
    assert.equal(metrics.match(/^keepwire_tcp_sockets\{state="[A-Z_0-9]+"\} \d+$/gm)?.length, 11);
    const bad = await app.inject('/v1/sockets?by=user');
    assert.equal(bad.statusCode, 400);
    assert.match(
      bad.json().error.message,
      /query "by" must be one of process, remote, local-port, state/,
    );
    const summary = await app.inject('/v1/sockets?by=local-port&top=1');
    assert.equal(summary.statusCode, 200);
    assert.equal(summary.json().groups.length, 1);
    assert.ok(Array.isArray(summary.json().findings), 'the findings of the same sample');
    assert.ok(summary.json().history.samples >= 1);
    assert.equal(summary.json().sample.backend, summary.json().source);
  } finally {
    // Also when an assertion failed: the sampling timer must not keep the file's process alive.
    await ctx.lifecycle.shutdown('test');
    await app.close();
  }
});

test('a fallback from netlink to /proc is counted and logged once, and so is the way back', async (t) => {
  // An `ss` that fails until a flag file exists, then is the real one.
  const dir = mkdtempSync(join(tmpdir(), 'kw-ss-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const flag = join(dir, 'works');
  const ss = join(dir, 'ss');
  writeFileSync(ss, `#!/bin/sh\n[ -e ${flag} ] && exec ss "$@"\necho "ss: refusing" >&2\nexit 3\n`);
  chmodSync(ss, 0o755);
  const ctx = context();
  const plane = createWatchPlane(ctx, { ssPath: ss });
  const app = createHttpServer({ logger: ctx.logger, ...ctx.config.admin });
  plane.registerAdminRoutes!(app);
  await app.ready();
  await plane.start!();
  const metric = async (pattern: RegExp) =>
    Number(pattern.exec(await ctx.registry.metrics())?.[1] ?? 0);
  const waitFor = async (pattern: RegExp, atLeast: number) => {
    const deadline = Date.now() + 60_000;
    while ((await metric(pattern)) < atLeast) {
      assert.ok(Date.now() < deadline, `${pattern} stayed below ${atLeast}`);
      await sleep(50);
    }
  };
  const fromProc = /^keepwire_watch_sample_seconds_count\{backend="proc",kind="full"\} (\d+)$/m;
  const fromNetlink =
    /^keepwire_watch_sample_seconds_count\{backend="netlink",kind="full"\} (\d+)$/m;
  const warnings = () => ctx.lines.filter((l) => l.includes('the netlink backend failed'));
  try {
    await waitFor(fromProc, 3);
    assert.ok(
      (await metric(
        /^keepwire_watch_backend_failures_total\{backend="netlink",code="WATCH_SS_FAILED"\} (\d+)$/m,
      )) >= 3,
    );
    assert.equal(warnings().length, 1, 'one line, not one per sample');
    assert.match(warnings()[0]!, /"to":"proc"/);
    const answer = (await app.inject('/v1/sockets')).json();
    assert.equal(answer.source, 'proc');
    assert.equal(answer.sample.backend, 'proc');
    assert.equal(answer.sample.failures[0].backend, 'netlink');
    assert.equal(answer.sample.failures[0].code, 'WATCH_SS_FAILED');
    assert.match(answer.sample.failures[0].message, /ss: refusing/);

    writeFileSync(flag, '');
    await waitFor(fromNetlink, 1);
    const back = Date.now() + 30_000;
    while (!ctx.lines.some((l) => l.includes('sampling from netlink again'))) {
      assert.ok(Date.now() < back, 'the way back was not logged');
      await sleep(50);
    }
    assert.equal(warnings().length, 1);
    assert.deepEqual((await app.inject('/v1/sockets')).json().sample.failures, []);
  } finally {
    await ctx.lifecycle.shutdown('test');
    await app.close();
  }
});
