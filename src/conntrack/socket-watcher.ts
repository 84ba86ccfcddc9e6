/**
 * The service's sampler: one snapshot every `intervalMs` (never two at once),
 * a bounded history, and the findings computed from that history.
 *
 * History is compact on purpose: at 50,000 sockets x 120 samples, full
 * snapshots would hold millions of objects. Only the latest snapshot is kept
 * whole; older entries keep their state counts and their CLOSE_WAIT sockets,
 * which is all the CLOSE_WAIT leak analysis needs from the past.
 */
import type { WatchConfig } from '../config/watch.ts';
import { enrichForDiagnosis, readAnalysisContext } from './diagnose.ts';
import { WatchNoSamplesError, WatchSamplingError } from './errors.ts';
import { analyzeSamples, type Finding } from './findings.ts';
import { takeSnapshot } from './snapshot.ts';
import type { SocketSnapshot } from './socket.ts';
import { emptyStateCounts, type TcpState } from './tcp-state.ts';

export interface HistoryEntry {
  takenAt: number;
  total: number;
  states: Record<TcpState, number>;
  /** CLOSE_WAIT sockets only (see the top comment). */
  closeWait: SocketSnapshot['sockets'];
}

export interface SamplerHooks {
  onSample(snapshot: SocketSnapshot, durationMs: number): void;
  onError(error: WatchSamplingError): void;
}

export class SocketWatcher {
  readonly #config: WatchConfig;
  readonly #hooks: SamplerHooks;
  readonly #procRoot: string | undefined;
  readonly #ssPath: string | undefined;
  readonly #history: HistoryEntry[] = [];
  #latest: SocketSnapshot | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(
    config: WatchConfig,
    hooks: SamplerHooks,
    options: { procRoot?: string; ssPath?: string } = {},
  ) {
    this.#config = config;
    this.#hooks = hooks;
    this.#procRoot = options.procRoot;
    this.#ssPath = options.ssPath;
  }

  get latest(): SocketSnapshot | undefined {
    return this.#latest;
  }

  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  /** Takes the first sample now, then one every intervalMs. */
  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  /** Stops the timer and waits for a sample in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One sample; errors are reported through the hooks, never thrown. */
  async sample(): Promise<void> {
    const started = performance.now();
    try {
      const snapshot = await takeSnapshot({
        attribute: this.#config.attribute,
        heldSinceStates: ['CLOSE_WAIT'],
        procRoot: this.#procRoot,
        ssPath: this.#ssPath,
      });
      await enrichForDiagnosis(snapshot, this.#procRoot, { attribute: this.#config.attribute });
      this.#record(snapshot);
      this.#hooks.onSample(snapshot, performance.now() - started);
    } catch (error) {
      this.#hooks.onError(new WatchSamplingError(error));
    }
  }

  /** Findings over the kept history (the same analyses as `keepwire sockets diagnose`). */
  async findings(): Promise<{ findings: Finding[]; samples: number; spanMs: number }> {
    const latest = this.#latest;
    if (latest === undefined) throw new WatchNoSamplesError();
    const context = await readAnalysisContext(this.#procRoot);
    const past: SocketSnapshot[] = this.#history.slice(0, -1).map((entry) => ({
      takenAt: entry.takenAt,
      source: latest.source,
      attributed: latest.attributed,
      sockets: entry.closeWait,
      skipped: latest.skipped,
    }));
    const first = this.#history[0]!;
    return {
      findings: analyzeSamples([...past, latest], context),
      samples: this.#history.length,
      spanMs: latest.takenAt - first.takenAt,
    };
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#running = this.sample().finally(() => {
      this.#running = undefined;
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#config.intervalMs);
    });
  }

  #record(snapshot: SocketSnapshot): void {
    const states = emptyStateCounts();
    const closeWait: SocketSnapshot['sockets'] = [];
    for (const socket of snapshot.sockets) {
      states[socket.state] += 1;
      if (socket.state === 'CLOSE_WAIT') closeWait.push(socket);
    }
    this.#history.push({
      takenAt: snapshot.takenAt,
      total: snapshot.sockets.length,
      states,
      closeWait,
    });
    if (this.#history.length > this.#config.historySamples) this.#history.shift();
    this.#latest = snapshot;
  }
}
