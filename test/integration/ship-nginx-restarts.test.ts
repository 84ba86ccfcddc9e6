/**
 * Reliability: a real nginx between Keepwire's http sink and the collector
 * (`proxy_pass` to a counting server, since `return 204` cannot count) is
 * restarted 20 times (fast shutdown, then a new master on the same port)
 * while events flow. Nothing is lost, and no socket owned by `keepwire serve`
 * is left in CLOSE_WAIT (checked with `ss -p`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeWaitOwnedBy } from '../support/close-wait.ts';
import { startCountingServer } from '../support/counting-server.ts';
import { canConnect, freePort } from '../support/nginx.ts';
import {
  makeDataDir,
  seqLines,
  startShipServe,
  waitFor,
  writeShipConfig,
} from '../support/ship-serve.ts';

const TOTAL = 40_000;
const PER_REQUEST = 500;
const RESTARTS = 20;

/** nginx on a fixed port, so a restart comes back where the sink points. */
async function startNginx(prefix: string, port: number, upstream: string): Promise<ChildProcess> {
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n` +
      `  client_body_temp_path ${prefix}/body;\n  proxy_temp_path ${prefix}/proxy;\n  client_max_body_size 64m;\n` +
      `  server { listen 127.0.0.1:${port} reuseport; location / { proxy_pass ${upstream}; } }\n}\n`,
  );
  const child = spawn(
    'nginx',
    [
      '-p',
      `${prefix}/`,
      '-c',
      join(prefix, 'nginx.conf'),
      '-g',
      `daemon off; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log;`,
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 5_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('nginx did not start');
    await sleep(10);
  }
  return child;
}

async function stopNginx(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

test('nginx restarted 20 times mid-run: nothing lost, no CLOSE_WAIT left', {
  timeout: 120_000,
}, async () => {
  const collector = await startCountingServer();
  const dataDir = makeDataDir('kw-nginx-');
  const prefix = join(dataDir, 'nginx');
  const port = await freePort();
  let nginx = await startNginx(prefix, port, collector.url);
  const serve = await startShipServe(
    dataDir,
    writeShipConfig(dataDir, {
      type: 'http',
      url: `http://127.0.0.1:${port}/ingest`,
      concurrency: 2,
      batch: { maxEvents: 250, lingerMs: 5 },
      retry: { initialBackoffMs: 20, maxBackoffMs: 200 },
    }),
  );
  try {
    const requests = TOTAL / PER_REQUEST;
    const every = Math.floor(requests / RESTARTS);
    let restarts = 0;
    for (let request = 0; request < requests; request++) {
      const response = await fetch(`${serve.eventsUrl}/v1/events`, {
        method: 'POST',
        body: seqLines(request * PER_REQUEST, (request + 1) * PER_REQUEST, 20),
      });
      assert.equal(response.status, 200);
      if (request % every === every - 1 && restarts < RESTARTS) {
        await stopNginx(nginx);
        nginx = await startNginx(prefix, port, collector.url);
        restarts += 1;
      }
    }
    assert.equal(restarts, RESTARTS);
    await waitFor(() => collector.seen.size === TOTAL, 60_000, `all ${TOTAL} events through nginx`);
    // Idle pooled sockets whose peer went away must be closed by us within a second.
    await stopNginx(nginx);
    await sleep(1500);
    assert.deepEqual(closeWaitOwnedBy(serve.pid), []);
  } finally {
    await stopNginx(nginx);
    await serve.stop();
    await collector.close();
  }
});
