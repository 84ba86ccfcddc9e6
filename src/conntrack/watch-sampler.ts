/**
 * One sample for the watcher in `keepwire serve`, made cheap enough to leave
 * running: every TCP socket from the first backend that answers (netlink,
 * then /proc, then `ss` text: the order takeSnapshot uses), then incremental
 * attribution (socket-owners.ts).
 *
 * Three things differ from takeSnapshot, which answers one-shot questions:
 * - Full and light samples. A full sample makes an object of every socket
 *   and attributes each; it runs first, then at most every `fullSampleMs`
 *   (and whenever netlink did not answer). Between, a light sample asks the
 *   kernel for every state but ESTABLISHED and TIME_WAIT: the ones the
 *   findings read socket by socket (CLOSE_WAIT leaks, SYN backlogs,
 *   FIN_WAIT2 orphans), few on a healthy host; it attributes only those, and
 *   counts ESTABLISHED and TIME_WAIT from the kernel's own counters
 *   (tcp-counters.ts; where they cannot be read, from the whole dump by
 *   state byte). The light sample's snapshot carries the full sample's
 *   ESTABLISHED and TIME_WAIT sockets (`carried`) with counts of its own
 *   (`counts`). At 50,000 mostly established sockets that is most of the
 *   cost gone, ss's included.
 * - The dump comes from a long-lived shell (ss-coprocess.ts), into a buffer
 *   reused from sample to sample, and is parsed against the previous sample
 *   (parseReusing): a socket whose kernel record did not change is the same
 *   object again, with its attribution. Objects shared with the history are
 *   never changed in place.
 * - A backend that failed is reported with the sample (`failures`), so the
 *   plane can count and log a fallback from netlink to /proc instead of
 *   silently answering from a slower backend.
 */
import { endianness } from 'node:os';
import { enrichForDiagnosis } from './diagnose.ts';
import { NetlinkDumpParser, type SocketLookup } from './netlink-parser.ts';
import { checkComplete } from './netlink-reader.ts';
import { readProcSockets } from './proc-reader.ts';
import {
  emptySkipCounts,
  type SkipCounts,
  type SocketSnapshot,
  type SocketSource,
  type TcpSocket,
} from './socket.ts';
import { type AttributionResult, SocketOwners } from './socket-owners.ts';
import { SsCoprocess } from './ss-coprocess.ts';
import { readSsSockets } from './ss-reader.ts';
import { readTcpCounters } from './tcp-counters.ts';
import { CARRIED_STATES, STATE_BY_NUMBER, TCP_STATES, type TcpState } from './tcp-state.ts';

const ORDER: readonly SocketSource[] = ['netlink', 'proc', 'ss'];

const LIGHT_WANTED = Uint8Array.from(STATE_BY_NUMBER, (state) =>
  state === undefined || CARRIED_STATES.includes(state) ? 0 : 1,
);
/** What a light sample asks the kernel for, when its counters give the rest. */
const LIGHT_STATES = TCP_STATES.filter((state) => !CARRIED_STATES.includes(state));
const ESTABLISHED = STATE_BY_NUMBER.indexOf('ESTABLISHED');
const TIME_WAIT = STATE_BY_NUMBER.indexOf('TIME_WAIT');
const CLOSE_WAIT = STATE_BY_NUMBER.indexOf('CLOSE_WAIT');
const NUMBER_OF = new Map(STATE_BY_NUMBER.map((state, n) => [state, n]));

/** Sockets by kernel state number. */
function countStates(sockets: readonly TcpSocket[]): Float64Array {
  const counts = new Float64Array(STATE_BY_NUMBER.length);
  for (const socket of sockets) counts[NUMBER_OF.get(socket.state)!]! += 1;
  return counts;
}

export interface BackendFailure {
  backend: SocketSource;
  error: unknown;
}

export interface WatchSample {
  snapshot: SocketSnapshot;
  /** Backends tried before the one that answered, and why each failed (empty normally). */
  failures: BackendFailure[];
  /** What attribution read, when it ran. */
  attribution?: AttributionResult;
  /** A light sample's sockets read this time (every state but CARRIED_STATES); undefined on a full one. */
  fresh?: TcpSocket[];
}

export interface WatchSamplerOptions {
  attribute: boolean;
  /** Every known fd is read again once per this many full samples (socket-owners.ts). */
  rescanSlices: number;
  /** A full sample at least this often; 0 makes every sample full. */
  fullSampleMs: number;
  procRoot?: string;
  ssPath?: string;
}

interface Read {
  source: SocketSource;
  sockets: TcpSocket[];
  /** Light: counts by kernel state number. */
  counts?: Float64Array;
}

/** What a light sample carries over from the last full one. */
interface Carried {
  takenAt: number;
  sockets: TcpSocket[];
  byInode: Map<number, TcpSocket>;
  /** Inodes seen since in another state: left out of `sockets`. */
  moved: Set<number>;
}

export class WatchSampler {
  readonly #options: WatchSamplerOptions;
  readonly #parser = new NetlinkDumpParser({ littleEndian: endianness() === 'LE' });
  readonly #ss: SsCoprocess;
  readonly #owners: SocketOwners | undefined;
  /** The previous sample's sockets read in full, by inode: what parseReusing may hand out again. */
  #earlier = new Map<number, TcpSocket>();
  #carried: Carried | undefined;
  /** Whether CurrEstab counts CLOSE_WAIT too: so on the kernels of today, until a full sample says otherwise. */
  #closeWaitInCurrEstab = true;

  constructor(options: WatchSamplerOptions) {
    this.#options = options;
    this.#ss = new SsCoprocess({ ssPath: options.ssPath });
    if (options.attribute)
      this.#owners = new SocketOwners({
        procRoot: options.procRoot,
        rescanSlices: options.rescanSlices,
      });
  }

  /** Throws the first backend's error when none answers. */
  async take(): Promise<WatchSample> {
    const takenAt = Date.now();
    const carried = this.#carried;
    const light = carried !== undefined && takenAt - carried.takenAt < this.#options.fullSampleMs;
    const skipped = emptySkipCounts();
    const failures: BackendFailure[] = [];
    const earlier = this.#earlier;
    const lookup: SocketLookup = {
      get: (inode) => earlier.get(inode) ?? carried?.byInode.get(inode),
    };
    let answer: Read | undefined;
    for (const backend of ORDER) {
      try {
        answer = await this.#read(backend, skipped, light, lookup);
        break;
      } catch (error) {
        failures.push({ backend, error });
      }
    }
    if (answer === undefined) throw failures[0]!.error;
    const { source, sockets, counts } = answer;
    const current = new Map<number, TcpSocket>();
    for (const socket of sockets) if (socket.inode !== 0) current.set(socket.inode, socket);
    let attribution: WatchSample['attribution'];
    if (this.#owners !== undefined) {
      const maps = { current, earlier: lookup };
      attribution = await this.#owners.attribute(sockets, maps, skipped, counts !== undefined);
    }
    this.#earlier = current;
    const snapshot: SocketSnapshot = {
      takenAt,
      source,
      attributed: this.#owners !== undefined,
      sockets,
      skipped,
    };
    const sample: WatchSample = { snapshot, failures };
    if (attribution !== undefined) sample.attribution = attribution;
    if (counts !== undefined && carried !== undefined) {
      sample.fresh = sockets;
      snapshot.sockets = sockets.concat(this.#carriedSockets(carried, current));
      snapshot.counts = stateCounts(counts);
      snapshot.carried = { states: [...CARRIED_STATES], takenAt: carried.takenAt };
    } else this.#carry(snapshot, source);
    // /proc and `ss` text carry no LISTEN backlog; ss asked for LISTEN only adds it.
    if (source !== 'netlink')
      await enrichForDiagnosis(snapshot, this.#options.procRoot, { attribute: false });
    return sample;
  }

  /** The pid of the shell that runs ss, while one runs. */
  get shellPid(): number | undefined {
    return this.#ss.pid;
  }

  /** Ends the shell that runs ss. */
  close(): void {
    this.#ss.close();
  }

  async #read(
    backend: SocketSource,
    skipped: SkipCounts,
    light: boolean,
    earlier: SocketLookup,
  ): Promise<Read> {
    const { procRoot, ssPath } = this.#options;
    if (backend === 'proc')
      return { source: backend, sockets: await readProcSockets({ procRoot, skipped }) };
    if (backend === 'ss')
      return { source: backend, sockets: await readSsSockets({ skipped, ssPath }) };
    const counters = light ? readTcpCounters(procRoot) : undefined;
    const bytes = await this.#ss.dump(counters === undefined ? undefined : LIGHT_STATES);
    const sockets: TcpSocket[] = [];
    const counted = emptySkipCounts();
    // Light without the kernel's counters: the whole dump, counted by state byte.
    const only =
      light && counters === undefined
        ? { wanted: LIGHT_WANTED, counts: new Float64Array(STATE_BY_NUMBER.length) }
        : undefined;
    checkComplete(this.#parser.parseReusing(bytes, earlier, sockets, counted, only));
    skipped.malformedMessages += counted.malformedMessages;
    if (only !== undefined) return { source: backend, sockets, counts: only.counts };
    if (counters === undefined) {
      this.#calibrate(sockets);
      return { source: backend, sockets };
    }
    const counts = countStates(sockets);
    const closeWait = this.#closeWaitInCurrEstab ? counts[CLOSE_WAIT]! : 0;
    counts[ESTABLISHED] = Math.max(0, counters.currEstab - closeWait);
    counts[TIME_WAIT] = counters.timeWait;
    return { source: backend, sockets, counts };
  }

  /**
   * A full sample's exact counts against CurrEstab, read just after: whether
   * this kernel counts CLOSE_WAIT there (Linux 6.10 and later do). Decided
   * only when there are CLOSE_WAIT sockets to tell the two apart.
   */
  #calibrate(sockets: readonly TcpSocket[]): void {
    let established = 0;
    let closeWait = 0;
    for (const { state } of sockets)
      if (state === 'ESTABLISHED') established += 1;
      else if (state === 'CLOSE_WAIT') closeWait += 1;
    const counters = closeWait > 0 ? readTcpCounters(this.#options.procRoot) : undefined;
    if (counters === undefined) return;
    this.#closeWaitInCurrEstab =
      Math.abs(counters.currEstab - established - closeWait) <=
      Math.abs(counters.currEstab - established);
  }

  /** After a full sample: its ESTABLISHED and TIME_WAIT sockets, for the light samples until the next. */
  #carry(snapshot: SocketSnapshot, source: SocketSource): void {
    if (source !== 'netlink' || this.#options.fullSampleMs <= 0) {
      this.#carried = undefined; // light samples need netlink's counts
      return;
    }
    const sockets = snapshot.sockets.filter((socket) => CARRIED_STATES.includes(socket.state));
    const byInode = new Map<number, TcpSocket>();
    for (const socket of sockets) if (socket.inode !== 0) byInode.set(socket.inode, socket);
    this.#carried = { takenAt: snapshot.takenAt, sockets, byInode, moved: new Set() };
  }

  /** The carried sockets, less any read this time in another state. */
  #carriedSockets(carried: Carried, current: ReadonlyMap<number, TcpSocket>): TcpSocket[] {
    let moved = false;
    for (const inode of current.keys())
      if (carried.byInode.has(inode) && !carried.moved.has(inode)) {
        carried.moved.add(inode);
        moved = true;
      }
    if (moved)
      carried.sockets = carried.sockets.filter((socket) => !carried.moved.has(socket.inode));
    return carried.sockets;
  }
}

function stateCounts(byNumber: Float64Array): Record<TcpState, number> {
  const counts = {} as Record<TcpState, number>;
  for (let n = 1; n < STATE_BY_NUMBER.length; n++) counts[STATE_BY_NUMBER[n]!] = byNumber[n]!;
  return counts;
}
