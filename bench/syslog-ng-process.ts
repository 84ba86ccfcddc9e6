/**
 * syslog-ng as the benchmarks run it: a configuration that reads one input
 * file into one destination (with a parser between, optionally), started in
 * the foreground with its persist file, control socket (`DIR/ctl`) and pid
 * file in a directory of its own, timed from spawn until the caller's check
 * says every event arrived (syslog-ng tails its input forever), then stopped
 * and its directory removed. Shared by bench/ship-vs-syslog-ng.ts and
 * bench/modsecurity-vs-syslog-ng.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The file source tuned for a backfill (read as fast as it can); `isDefault`: syslog-ng's defaults. */
export function fileSource(input: string, isDefault = false): string {
  const tuning = isDefault ? '' : ' follow-freq(0.1) log-fetch-limit(1000) log-iw-size(100000)';
  return `source s_in { file("${input}" flags(no-parse)${tuning}); };`;
}

/** A reliable disk buffer in `dir`; `isDefault`: its size only, the rest syslog-ng's defaults. */
export function reliableDiskBuffer(dir: string, isDefault = false): string {
  const memory = isDefault ? '' : ' mem-buf-size(16384000)';
  return `disk-buffer(reliable(yes) dir("${dir}") disk-buf-size(1073741824)${memory})`;
}

export interface SyslogNgRun {
  /** Where the run's directory is made. */
  readonly workDir: string;
  /** The `source s_in {...};` statement (fileSource). */
  readonly source: string;
  /** The `destination d_out {...};` statement, given the run's directory (for its disk buffer). */
  readonly destination: (dir: string) => string;
  /** Statements between source and destination in the log path (`parser {...};`), if any. */
  readonly parser?: string;
  /** Whether every event arrived, given the control socket; asked every 25 ms. */
  readonly isDone: (control: string) => boolean | Promise<boolean>;
}

/** Runs syslog-ng on `run`'s configuration until `isDone`; the milliseconds from spawn. */
export async function timeSyslogNg(run: SyslogNgRun): Promise<number> {
  const dir = mkdtempSync(join(run.workDir, 'sng-'));
  const conf = join(dir, 'syslog-ng.conf');
  writeFileSync(
    conf,
    `@version: 3.38\n@include "scl.conf"\noptions { stats-level(1); log-msg-size(65536); };\n` +
      `${run.source}\n${run.destination(dir)}\n` +
      `log { source(s_in); ${run.parser ?? ''} destination(d_out); };\n`,
  );
  const control = join(dir, 'ctl');
  const started = performance.now();
  const child = spawnSyslogNg(dir, conf);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`syslog-ng exited ${child.exitCode}`);
      if (await run.isDone(control)) return performance.now() - started;
      await sleep(25);
    }
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function spawnSyslogNg(dir: string, conf: string): ChildProcess {
  return spawn(
    'syslog-ng',
    [
      '-F',
      '-f',
      conf,
      '--persist-file',
      join(dir, 'persist'),
      '--control',
      join(dir, 'ctl'),
      '--pidfile',
      join(dir, 'pid'),
      '--no-caps',
    ],
    { stdio: 'ignore' },
  );
}

/** Resolves when `child` has exited (at once if it already has), with its exit code. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
