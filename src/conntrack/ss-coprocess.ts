/**
 * The kernel's socket dump for `keepwire serve`'s watcher: `ss -tan -D FILE`
 * run by a long-lived `sh`, one dump per request, written into one reused
 * file and read into one reused buffer. The CLI spawns ss once per question
 * (netlink-reader.ts); a service sampling every few seconds does better:
 *
 * - Spawning from serve forks a process of a few hundred MB: on the machines
 *   measured that took ~10 ms, and the parent then paid copy-on-write faults
 *   on the pages it wrote next (~10 ms more). The small shell forks ss in a
 *   fraction of a millisecond.
 * - Reading a 5 MB dump (50,000 sockets) into fresh memory cost 15-20 ms of
 *   page faults; into a buffer already touched, 0.3 ms.
 *
 * The protocol: one line on the shell's stdin (ss's state arguments, words
 * Keepwire writes itself); the shell runs ss with the dump going to
 * /proc/self/fd/3 (our unlinked temporary file; /proc is there wherever
 * the watcher works, /dev/fd not always), which ss opens afresh and
 * truncates; ss's messages go to the shell's stdout, followed by
 * `keepwire-ss-exit STATUS`. A dump that does not end within the timeout
 * kills the shell and its ss (a process group of their own); a shell that
 * died for any reason is started again by the next request. When serve ends,
 * its end of the stdin pipe closes and the shell exits after the dump in
 * flight, even after kill -9.
 *
 * A dump is the buffer's bytes until the next request: parse it before
 * asking again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, fstatSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { WatchSsFailedError, WatchSsUnavailableError } from './errors.ts';
import { openUnlinkedFile } from './netlink-dump.ts';
import { SS_FILTER_NAME, type TcpState } from './tcp-state.ts';

const EXIT_LINE = /^keepwire-ss-exit (\d+)$/m;
/** `set -f`: the words of a request are never globbed. */
const SCRIPT = `set -f
while IFS= read -r request; do
  "$0" -tan $request -D /proc/self/fd/3 </dev/null 2>&1
  echo "keepwire-ss-exit $?"
done`;
/** The shell's status when it could not find (127) or run (126) the command. */
const NOT_FOUND = 127;
const NOT_EXECUTABLE = 126;

interface Running {
  child: ChildProcess;
  file: number;
  output: string;
  /** Settles the request in flight, if any. */
  settle?: (error: Error | undefined) => void;
}

export class SsCoprocess {
  readonly #command: string;
  readonly #timeoutMs: number;
  #running: Running | undefined;
  #buffer = Buffer.alloc(0);
  #busy = false;

  constructor(options: { ssPath?: string; timeoutMs?: number } = {}) {
    this.#command = options.ssPath ?? 'ss';
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The process id of the shell, while one runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.#running?.child.pid;
  }

  /**
   * Dumps the sockets in `states` (every state when omitted). Rejects with
   * WATCH_SS_UNAVAILABLE when ss cannot be found or run, WATCH_SS_FAILED when
   * it fails or times out.
   */
  async dump(states?: readonly TcpState[]): Promise<Buffer> {
    if (this.#busy) throw new Error('SsCoprocess.dump: a dump is already in flight');
    this.#busy = true;
    try {
      const running = this.#running ?? this.#start();
      const words = (states ?? []).flatMap((state) => ['state', SS_FILTER_NAME[state]]);
      const commandLine = [this.#command, '-tan', ...words, '-D', 'FILE'].join(' ');
      const failure = await this.#request(running, words.join(' '));
      if (failure !== undefined) {
        throw failure.status === NOT_FOUND || failure.status === NOT_EXECUTABLE
          ? new WatchSsUnavailableError(this.#command, new Error(failure.output.trim()))
          : new WatchSsFailedError(commandLine, failure.output, new Error(failure.reason));
      }
      return this.#read(running.file);
    } finally {
      this.#busy = false;
    }
  }

  /** Ends the shell (closing its stdin) and releases the file and buffer. */
  close(): void {
    const running = this.#running;
    this.#running = undefined;
    this.#buffer = Buffer.alloc(0);
    if (running === undefined) return;
    running.child.stdin?.end();
    closeSync(running.file);
  }

  #start(): Running {
    const file = openUnlinkedFile();
    if (file === undefined)
      throw new Error(`no temporary file for ss's dump could be created in ${tmpdir()}`);
    let child: ChildProcess;
    try {
      child = spawn('sh', ['-c', SCRIPT, this.#command], {
        stdio: ['pipe', 'pipe', 'ignore', file],
        env: { PATH: process.env.PATH },
        detached: true, // a group of its own: a timeout kills ss with the shell
      });
    } catch (error) {
      closeSync(file);
      throw error;
    }
    const running: Running = { child, file, output: '' };
    child.stdout!.setEncoding('latin1').on('data', (text: string) => {
      running.output += text;
      if (EXIT_LINE.test(running.output)) running.settle?.(undefined);
    });
    // Neither the shell nor its pipes keep serve alive; close() or serve's exit ends it.
    child.unref();
    (child.stdout as unknown as { unref(): void }).unref();
    (child.stdin as unknown as { unref(): void }).unref();
    child.stdin!.on('error', () => {}); // a shell that died: reported by 'close' below
    child.once('error', (error) => this.#lost(running, error));
    child.once('close', (code, signal) =>
      this.#lost(running, new Error(`the shell running ss ended (${signal ?? `exit ${code}`})`)),
    );
    this.#running = running;
    return running;
  }

  /** Sends one request; resolves undefined on status 0, else what went wrong. */
  #request(
    running: Running,
    words: string,
  ): Promise<{ status: number; output: string; reason: string } | undefined> {
    running.output = '';
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        finish(new Error(`no answer within ${this.#timeoutMs} ms`));
        this.#kill(running);
      }, this.#timeoutMs);
      const finish = (error: Error | undefined) => {
        clearTimeout(timer);
        running.settle = undefined;
        const output = running.output;
        if (error !== undefined) return resolve({ status: -1, output, reason: error.message });
        const status = Number(EXIT_LINE.exec(output)![1]);
        const text = output.replace(EXIT_LINE, '');
        resolve(status === 0 ? undefined : { status, output: text, reason: `ss exited ${status}` });
      };
      running.settle = finish;
      running.child.stdin!.write(`${words}\n`);
    });
  }

  /** The shell is gone: a request in flight fails, the next one starts another shell. */
  #lost(running: Running, error: Error): void {
    if (this.#running === running) {
      this.#running = undefined;
      closeSync(running.file);
    }
    running.settle?.(error);
  }

  #kill(running: Running): void {
    try {
      process.kill(-running.child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    this.#lost(running, new Error('killed after the timeout'));
  }

  #read(file: number): Buffer {
    const size = fstatSync(file).size;
    if (this.#buffer.length < size) this.#buffer = Buffer.allocUnsafeSlow(size + (size >> 2));
    let length = 0;
    while (length < size) {
      const n = readSync(file, this.#buffer, length, size - length, length);
      if (n === 0) break;
      length += n;
    }
    return this.#buffer.subarray(0, length);
  }
}
