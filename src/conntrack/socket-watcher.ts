/**
 * The service's sampler: one snapshot every `intervalMs` (never two at once),
 * a bounded history, and the findings computed from that history.
 *
 * History is compact on purpose: at 50,000 sockets x 120 samples, full
 * snapshots would hold millions of objects. Only the latest snapshot is kept
 * whole; older entries keep their state counts and their CLOSE_WAIT sockets.
 * The leak analysis itself runs incrementally: each CLOSE_WAIT socket's
 * first sighting in its unbroken run is carried from sample to sample, which
 * gives what findCloseWaitLeaks computes over the whole history.
 *
 * Findings are computed once per sample, and answers to GET /v1/sockets are
 * kept until the next sample: a request never samples, never reads /proc.
 */
import type { WatchConfig } from '../config/watch.ts';
import { readAnalysisContext } from './diagnose.ts';
import { WatchNoSamplesError, WatchSamplingError } from './errors.ts';
import {
  type AnalysisContext,
  analyzeLatest,
  closeWaitIdentity,
  type Finding,
  findTimeWaitPressure,
  groupCloseWaitLeaks,
  type TimeWaitPressure,
} from './findings.ts';
import type { SocketSnapshot } from './socket.ts';
import { type SocketSummary, type SummaryOptions, summarizeSnapshot } from './summary.ts';
import { emptyStateCounts, type TcpState } from './tcp-state.ts';
import { type WatchSample, WatchSampler } from './watch-sampler.ts';

export interface HistoryEntry {
  takenAt: number;
  total: number;
  states: Record<TcpState, number>;
  /** CLOSE_WAIT sockets only (see the top comment). */
  closeWait: SocketSnapshot['sockets'];
}

export interface WatchFindings {
  findings: Finding[];
  samples: number;
  spanMs: number;
}

export interface SamplerHooks {
  onSample(sample: WatchSample, durationMs: number): void;
  onError(error: WatchSamplingError): void;
}

/** Answers kept per sample for GET /v1/sockets queries; a new sample starts afresh. */
const SUMMARY_CACHE_ENTRIES = 32;

export class SocketWatcher {
  readonly #config: WatchConfig;
  readonly #hooks: SamplerHooks;
  readonly #procRoot: string | undefined;
  readonly #sampler: WatchSampler;
  readonly #history: HistoryEntry[] = [];
  /** closeWaitIdentity -> start of its unbroken run in CLOSE_WAIT, within the history. */
  #firstSeen = new Map<string | number, number>();
  #latest: SocketSnapshot | undefined;
  #latestSample: WatchSample | undefined;
  #latestDurationMs = 0;
  #findings: WatchFindings | undefined;
  /** Refreshed by full samples: the kernel settings the analyses read, and TIME_WAIT pressure. */
  #context: AnalysisContext | undefined;
  #timeWait: TimeWaitPressure[] = [];
  readonly #summaries = new Map<string, SocketSummary>();
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
    const fullEveryMs = Math.max(config.intervalMs, config.fullSampleMs);
    this.#sampler = new WatchSampler({
      attribute: config.attribute,
      rescanSlices: Math.ceil(config.fullRescanMs / fullEveryMs),
      fullSampleMs: config.fullSampleMs,
      procRoot: options.procRoot,
      ssPath: options.ssPath,
    });
  }

  get latest(): SocketSnapshot | undefined {
    return this.#latest;
  }

  /** The latest sample's backend, failures and attribution work, and how long it took. */
  get latestSample(): { sample: WatchSample; durationMs: number } | undefined {
    return this.#latestSample && { sample: this.#latestSample, durationMs: this.#latestDurationMs };
  }

  /** The pid of the shell that runs ss for the sampler, while one runs. */
  get shellPid(): number | undefined {
    return this.#sampler.shellPid;
  }

  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  /** Takes the first sample now, then one every intervalMs. */
  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  /** Stops the timer, waits for a sample in flight, and ends the sampler's ss shell. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    this.#sampler.close();
  }

  /** One sample; errors are reported through the hooks, never thrown. */
  async sample(): Promise<void> {
    const started = performance.now();
    try {
      const sample = await this.#sampler.take();
      const latest = sample.snapshot;
      // A light sample's findings read only what it read; TIME_WAIT pressure is the last full sample's.
      const read = sample.fresh === undefined ? latest : { ...latest, sockets: sample.fresh };
      this.#record(latest, read.sockets);
      if (sample.fresh === undefined || this.#context === undefined) {
        this.#context = await readAnalysisContext(this.#procRoot);
        this.#timeWait = findTimeWaitPressure(latest, this.#context);
      }
      const leaks = groupCloseWaitLeaks(read, this.#firstSeen);
      this.#findings = {
        findings: analyzeLatest(read, this.#context, leaks, this.#timeWait),
        samples: this.#history.length,
        spanMs: latest.takenAt - this.#history[0]!.takenAt,
      };
      this.#latestSample = sample;
      this.#latestDurationMs = performance.now() - started;
      this.#hooks.onSample(sample, this.#latestDurationMs);
    } catch (error) {
      this.#hooks.onError(new WatchSamplingError(error));
    }
  }

  /** Findings over the kept history, computed when the sample was taken. */
  findings(): WatchFindings {
    if (this.#findings === undefined) throw new WatchNoSamplesError();
    return this.#findings;
  }

  /** summarizeSnapshot of the latest sample, kept until the next one. */
  summary(options: SummaryOptions): SocketSummary {
    const latest = this.#latest;
    if (latest === undefined) throw new WatchNoSamplesError();
    const key = `${options.by}|${options.state}|${options.port}|${options.top}`;
    let summary = this.#summaries.get(key);
    if (summary === undefined) {
      summary = summarizeSnapshot(latest, options);
      if (this.#summaries.size >= SUMMARY_CACHE_ENTRIES) this.#summaries.clear();
      this.#summaries.set(key, summary);
    }
    return summary;
  }

  /** One sample every intervalMs from the start of the one before (right away after one that overran). */
  #tick(): void {
    if (this.#stopped) return;
    const startedAt = performance.now();
    this.#running = this.sample().finally(() => {
      this.#running = undefined;
      if (this.#stopped) return;
      const wait = Math.max(0, this.#config.intervalMs - (performance.now() - startedAt));
      this.#timer = setTimeout(() => this.#tick(), wait);
    });
  }

  /** `read`: the sockets the sample read one by one (every state but the carried ones, on a light sample). */
  #record(snapshot: SocketSnapshot, read: SocketSnapshot['sockets']): void {
    const counted = emptyStateCounts();
    const closeWait: SocketSnapshot['sockets'] = [];
    for (const socket of read) {
      counted[socket.state] += 1;
      if (socket.state === 'CLOSE_WAIT') closeWait.push(socket);
    }
    const states = snapshot.counts === undefined ? counted : { ...snapshot.counts };
    let total = 0;
    for (const state in states) total += states[state as TcpState];
    this.#history.push({ takenAt: snapshot.takenAt, total, states, closeWait });
    if (this.#history.length > this.#config.historySamples) this.#history.shift();
    // A run in CLOSE_WAIT goes back at most to the oldest sample kept, as findCloseWaitLeaks sees it.
    const oldest = this.#history[0]!.takenAt;
    const firstSeen = new Map<string | number, number>();
    for (const socket of closeWait) {
      const identity = closeWaitIdentity(socket);
      firstSeen.set(identity, Math.max(this.#firstSeen.get(identity) ?? snapshot.takenAt, oldest));
    }
    this.#firstSeen = firstSeen;
    this.#latest = snapshot;
    this.#summaries.clear();
  }
}
