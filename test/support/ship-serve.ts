/**
 * Starts `keepwire serve` with a ship pipeline (the http source on port 0
 * routed to one sink) and finds the event intake through DATA_DIR/events.addr.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { makeDataDir, type ServeProcess, startServe } from './keepwire-process.ts';

export interface ShipServe extends ServeProcess {
  readonly eventsUrl: string;
  /** The value of a metric sample, summed over label sets matching `labels`. */
  metric(name: string, labels?: string): Promise<number>;
}

/** Writes a configuration with `sink` (the sink `out`) and optional source overrides. */
export function writeShipConfig(
  dataDir: string,
  sink: Record<string, unknown>,
  source: Record<string, unknown> = {},
): string {
  const file = join(dataDir, 'keepwire.yaml');
  writeFileSync(
    file,
    stringify({
      watch: { enabled: false },
      pipeline: {
        sources: { events: { type: 'http', listen: '127.0.0.1:0', ...source } },
        sinks: { out: sink },
        routes: { events: ['out'] },
      },
    }),
  );
  return file;
}

export async function startShipServe(dataDir: string, configFile: string): Promise<ShipServe> {
  // A crashed process leaves its address files behind: never read a stale one.
  rmSync(join(dataDir, 'events.addr'), { force: true });
  rmSync(join(dataDir, 'admin.addr'), { force: true });
  const serve = await startServe({ dataDir, args: ['--config', configFile] });
  const deadline = Date.now() + 20_000;
  let address: string | undefined;
  while (!address) {
    try {
      address = readFileSync(join(dataDir, 'events.addr'), 'utf8').trim() || undefined;
    } catch {}
    if (!address) {
      if (Date.now() > deadline || serve.child.exitCode !== null) {
        await serve.stop('SIGKILL');
        throw new Error(`keepwire serve did not write events.addr:\n${serve.stderr()}`);
      }
      await sleep(25);
    }
  }
  return {
    ...serve,
    eventsUrl: `http://${address}`,
    async metric(name: string, labels = ''): Promise<number> {
      const response = await fetch(`${serve.adminUrl}/metrics`);
      const text = await response.text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (labels && !line.includes(labels)) continue;
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
  };
}

export { makeDataDir };

/** NDJSON lines `{"seq":N,...}` for N in [from, to). */
export function seqLines(from: number, to: number, pad = 40): string {
  let body = '';
  for (let seq = from; seq < to; seq++) body += `{"seq":${seq},"msg":"${'m'.repeat(pad)}"}\n`;
  return body;
}

/** Polls `check` every 50 ms until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
