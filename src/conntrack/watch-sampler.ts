/**
 * One sample for the watcher in `keepwire serve`, made cheap enough to leave
 * running: every TCP socket from the first backend that answers (netlink,
 * then /proc, then `ss` text: the order takeSnapshot uses), then incremental
 * attribution (socket-owners.ts).
 *
 * Two things differ from takeSnapshot, which answers one-shot questions:
 * - The netlink dump is parsed against the previous sample (parseReusing):
 *   a socket whose kernel record did not change is the same object again,
 *   with its attribution, instead of a new one to build, attribute and
 *   collect. Objects shared with the history are never changed in place.
 * - A backend that failed is reported with the sample (`failures`), so the
 *   plane can count and log a fallback from netlink to /proc instead of
 *   silently answering from a slower backend.
 */
import { endianness } from 'node:os';
import { enrichForDiagnosis } from './diagnose.ts';
import { NetlinkDumpParser } from './netlink-parser.ts';
import { checkComplete, startNetlinkDump } from './netlink-reader.ts';
import { readProcSockets } from './proc-reader.ts';
import {
  emptySkipCounts,
  type SkipCounts,
  type SocketSnapshot,
  type SocketSource,
  type TcpSocket,
} from './socket.ts';
import { type AttributionResult, SocketOwners } from './socket-owners.ts';
import { readSsSockets } from './ss-reader.ts';

const ORDER: readonly SocketSource[] = ['netlink', 'proc', 'ss'];

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
}

export interface WatchSamplerOptions {
  attribute: boolean;
  /** Every known fd is read again once per this many samples (socket-owners.ts). */
  rescanSlices: number;
  procRoot?: string;
  ssPath?: string;
}

export class WatchSampler {
  readonly #options: WatchSamplerOptions;
  readonly #parser = new NetlinkDumpParser({ littleEndian: endianness() === 'LE' });
  readonly #owners: SocketOwners | undefined;
  /** The previous sample's sockets by inode: what parseReusing may hand out again. */
  #earlier = new Map<number, TcpSocket>();

  constructor(options: WatchSamplerOptions) {
    this.#options = options;
    if (options.attribute)
      this.#owners = new SocketOwners({
        procRoot: options.procRoot,
        rescanSlices: options.rescanSlices,
      });
  }

  /** Throws the first backend's error when none answers. */
  async take(): Promise<WatchSample> {
    const takenAt = Date.now();
    const skipped = emptySkipCounts();
    const failures: BackendFailure[] = [];
    let answer: { source: SocketSource; sockets: TcpSocket[] } | undefined;
    for (const backend of ORDER) {
      try {
        answer = { source: backend, sockets: await this.#read(backend, skipped) };
        break;
      } catch (error) {
        failures.push({ backend, error });
      }
    }
    if (answer === undefined) throw failures[0]!.error;
    const { source, sockets } = answer;
    const current = new Map<number, TcpSocket>();
    for (const socket of sockets) if (socket.inode !== 0) current.set(socket.inode, socket);
    let attribution: WatchSample['attribution'];
    if (this.#owners !== undefined) {
      const maps = { current, earlier: this.#earlier };
      attribution = await this.#owners.attribute(sockets, maps, skipped);
    }
    this.#earlier = current;
    const snapshot: SocketSnapshot = {
      takenAt,
      source,
      attributed: this.#owners !== undefined,
      sockets,
      skipped,
    };
    // /proc and `ss` text carry no LISTEN backlog; ss asked for LISTEN only adds it.
    if (source !== 'netlink')
      await enrichForDiagnosis(snapshot, this.#options.procRoot, { attribute: false });
    return attribution === undefined ? { snapshot, failures } : { snapshot, failures, attribution };
  }

  async #read(backend: SocketSource, skipped: SkipCounts): Promise<TcpSocket[]> {
    const { procRoot, ssPath } = this.#options;
    if (backend === 'proc') return readProcSockets({ procRoot, skipped });
    if (backend === 'ss') return readSsSockets({ skipped, ssPath });
    const bytes = await startNetlinkDump({ ssPath });
    const sockets: TcpSocket[] = [];
    const counted = emptySkipCounts();
    checkComplete(this.#parser.parseReusing(bytes, this.#earlier, sockets, counted));
    skipped.malformedMessages += counted.malformedMessages;
    return sockets;
  }
}
