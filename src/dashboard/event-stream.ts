/**
 * GET /v1/events: server-sent events for the dashboard, behind the admin
 * token like all of /v1/. It watches the registry (every pollMs, from
 * memory) and pushes a compact event when something moved:
 *
 * - `sample`: the watcher took a sample; `{"samples", "states"}`.
 * - `commands`: a command changed status; `{"transitions"}` by status.
 *
 * A comment line every 15 s keeps proxies from closing a quiet stream. Open
 * streams end when the admin listener closes, so shutdown never waits on them.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Registry } from '../telemetry/index.ts';
import { samplesOf, sumBy, total } from './metric-reader.ts';

const HEARTBEAT_MS = 15_000;

interface Change {
  event: 'sample' | 'commands';
  data: unknown;
}

/** Compares the registry with what it saw last; returns what changed. */
export class ChangeWatcher {
  readonly #registry: Registry;
  #samples = -1;
  #transitions = -1;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  async poll(): Promise<Change[]> {
    const changes: Change[] = [];
    const samples = total(await samplesOf(this.#registry, 'keepwire_watch_samples_total'));
    if (samples !== this.#samples) {
      this.#samples = samples;
      const states = sumBy(await samplesOf(this.#registry, 'keepwire_tcp_sockets'), 'state');
      changes.push({ event: 'sample', data: { samples, takenAt: Date.now(), states } });
    }
    const byStatus = sumBy(
      await samplesOf(this.#registry, 'keepwire_command_transitions_total'),
      'status',
    );
    const transitions = total(Object.entries(byStatus).map(([, value]) => ({ labels: {}, value })));
    if (transitions !== this.#transitions) {
      this.#transitions = transitions;
      changes.push({ event: 'commands', data: { transitions: byStatus } });
    }
    return changes;
  }
}

export function registerEventStream(
  app: FastifyInstance,
  registry: Registry,
  options: { pollMs?: number } = {},
): void {
  const streams = new Set<ServerResponse>();
  const pollMs = options.pollMs ?? 250;
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  app.get('/v1/events', (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    raw.write(': keepwire dashboard events\n\n');
    streams.add(raw);
    const watcher = new ChangeWatcher(registry);
    let busy = false;
    let lastWrite = Date.now();
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        for (const change of await watcher.poll()) {
          raw.write(`event: ${change.event}\ndata: ${JSON.stringify(change.data)}\n\n`);
          lastWrite = Date.now();
        }
        if (Date.now() - lastWrite >= HEARTBEAT_MS) {
          raw.write(': heartbeat\n\n');
          lastWrite = Date.now();
        }
      } catch (error) {
        request.log.error({ err: error }, 'dashboard event stream failed');
        raw.destroy();
      } finally {
        busy = false;
      }
    }, pollMs);
    const stop = () => {
      clearInterval(timer);
      streams.delete(raw);
    };
    raw.on('close', stop);
  });
}
