/**
 * The watcher's metrics. Labels stay bounded: states, backends and read
 * reasons are fixed sets, and the CLOSE_WAIT holders gauge is reset every
 * sample and keeps the top N processes only (watch.topProcesses).
 */
import { Counter, Gauge, Histogram, type Registry } from '../telemetry/prom.ts';
import type { SkipCounts } from './socket.ts';
import { emptyStateCounts, TCP_STATES } from './tcp-state.ts';
import type { WatchSample } from './watch-sampler.ts';

export class WatchMetrics {
  readonly #sockets: Gauge<'state'>;
  readonly #closeWait: Gauge<'pid' | 'process'>;
  readonly #samples: Counter;
  readonly #errors: Counter;
  readonly #skipped: Counter<'reason'>;
  readonly #seconds: Histogram<'backend' | 'kind'>;
  readonly #fallbacks: Counter<'backend' | 'code'>;
  readonly #reads: Counter<'reason'>;
  readonly #links: Counter;
  readonly #unattributed: Gauge;
  readonly #topProcesses: number;

  constructor(registry: Registry, options: { topProcesses: number }) {
    const registers = [registry];
    this.#topProcesses = options.topProcesses;
    this.#sockets = new Gauge({
      name: 'keepwire_tcp_sockets',
      help: 'TCP sockets on this host by kernel state, at the last sample',
      labelNames: ['state'],
      registers,
    });
    this.#closeWait = new Gauge({
      name: 'keepwire_tcp_close_wait_sockets',
      help: 'CLOSE_WAIT sockets held per process, top processes only',
      labelNames: ['pid', 'process'],
      registers,
    });
    this.#samples = new Counter({
      name: 'keepwire_watch_samples_total',
      help: 'Socket samples taken',
      registers,
    });
    this.#errors = new Counter({
      name: 'keepwire_watch_sample_errors_total',
      help: 'Socket samples that failed (logged with WATCH_SAMPLING_FAILED)',
      registers,
    });
    this.#skipped = new Counter({
      name: 'keepwire_watch_skipped_total',
      help: 'Lines, files, processes or fds skipped while sampling, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#seconds = new Histogram({
      name: 'keepwire_watch_sample_seconds',
      help: 'Time to take one socket sample (read, attribute, analyse), by the backend that answered and the kind of sample (full, light)',
      labelNames: ['backend', 'kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#fallbacks = new Counter({
      name: 'keepwire_watch_backend_failures_total',
      help: 'Samples in which a backend failed and the next one answered, by failed backend and error code',
      labelNames: ['backend', 'code'],
      registers,
    });
    this.#reads = new Counter({
      name: 'keepwire_watch_attribution_reads_total',
      help: 'Processes whose /proc/PID/fd was read for attribution, by why',
      labelNames: ['reason'],
      registers,
    });
    this.#links = new Counter({
      name: 'keepwire_watch_attribution_links_total',
      help: 'fd links read (readlink) for attribution',
      registers,
    });
    this.#unattributed = new Gauge({
      name: 'keepwire_watch_unattributed_sockets',
      help: 'Sockets with an inode that no visible process holds, at the last sample',
      registers,
    });
  }

  recordSample(sample: WatchSample, durationMs: number): void {
    const { snapshot } = sample;
    const counted = emptyStateCounts();
    const holders = new Map<number, { process: string; count: number }>();
    for (const socket of sample.fresh ?? snapshot.sockets) {
      counted[socket.state] += 1;
      if (socket.state === 'CLOSE_WAIT' && socket.pid !== undefined) {
        const holder = holders.get(socket.pid) ?? { process: socket.process ?? '?', count: 0 };
        holder.count += 1;
        holders.set(socket.pid, holder);
      }
    }
    const counts = snapshot.counts ?? counted;
    for (const state of TCP_STATES) this.#sockets.set({ state }, counts[state]);
    this.#closeWait.reset();
    const top = [...holders].sort((a, b) => b[1].count - a[1].count).slice(0, this.#topProcesses);
    for (const [pid, { process, count }] of top)
      this.#closeWait.set({ pid: String(pid), process }, count);
    this.#samples.inc();
    const kind = sample.fresh === undefined ? 'full' : 'light';
    this.#seconds.observe({ backend: snapshot.source, kind }, durationMs / 1000);
    for (const failure of sample.failures)
      this.#fallbacks.inc({ backend: failure.backend, code: errorCode(failure.error) });
    for (const reason of Object.keys(snapshot.skipped) as (keyof SkipCounts)[]) {
      const count = snapshot.skipped[reason];
      if (count > 0) this.#skipped.inc({ reason }, count);
    }
    const attribution = sample.attribution;
    if (attribution !== undefined) {
      for (const [reason, count] of Object.entries(attribution.reads))
        if (count > 0) this.#reads.inc({ reason }, count);
      this.#links.inc(attribution.links);
      this.#unattributed.set(attribution.unowned);
    }
  }

  recordError(): void {
    this.#errors.inc();
  }
}

/** The KeepwireError code of a backend failure, else the system error code, else "unknown". */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown';
}
