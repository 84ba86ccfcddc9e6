/**
 * Runs the real `keepwire` CLI as a child process for tests: the same Node.js
 * that runs the tests (24, through npm), the TypeScript sources directly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `keepwire ARGS` to completion. */
export function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    input?: string;
    timeoutMs?: number;
    /** A command that runs the CLI (e.g. setpriv ... to run as another user). */
    prefix?: string[];
  } = {},
): Promise<RunResult> {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  return runProcess(command!, [...prefixArgs, CLI, ...args], options);
}

/** Runs any program to completion, collecting its output (e.g. an installed `keepwire`). */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dataDir: string;
  readonly adminUrl: string;
  readonly adminToken: string;
  stderr(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const dataDirs: string[] = [];
process.once('exit', () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh data dir under the system tmp dir, removed when the test process exits. */
export function makeDataDir(prefix = 'kw-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dataDirs.push(dir);
  return dir;
}

/** `keepwire serve` options putting every listener on a free port. */
export const EPHEMERAL_LISTENERS = [
  '--admin',
  '127.0.0.1:0',
  '--agents',
  '127.0.0.1:0',
  '--events',
  '127.0.0.1:0',
] as const;

/** Starts `keepwire serve` on a free admin port and waits until it is ready. */
export async function startServe(
  options: {
    args?: string[];
    env?: NodeJS.ProcessEnv;
    dataDir?: string;
    /** The keepwire to run: an installed command instead of the sources. */
    command?: string;
    /** Give the data dir as KEEPWIRE_DATA_DIR instead of --data-dir. */
    dataDirInEnv?: boolean;
    /** Runs serve under `prlimit --nofile=N:N` (a low descriptor limit). */
    maxDescriptors?: number;
  } = {},
): Promise<ServeProcess> {
  const dataDir = options.dataDir ?? makeDataDir();
  const limit =
    options.maxDescriptors === undefined
      ? []
      : [
          `--nofile=${options.maxDescriptors}:${options.maxDescriptors}`,
          options.command ?? process.execPath,
        ];
  const child = spawn(
    limit.length > 0 ? 'prlimit' : (options.command ?? process.execPath),
    // Every listener on port 0, so tests run side by side; options.args may override.
    [
      ...limit,
      ...(options.command === undefined ? [CLI] : []),
      'serve',
      ...(options.dataDirInEnv ? [] : ['--data-dir', dataDir]),
      ...EPHEMERAL_LISTENERS,
      ...(options.args ?? []),
    ],
    {
      env: {
        ...process.env,
        KEEPWIRE_LOG__LEVEL: 'warn',
        ...(options.dataDirInEnv ? { KEEPWIRE_DATA_DIR: dataDir } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  let address: string | undefined;
  while (!address) {
    if (child.exitCode !== null) throw new Error(`keepwire serve exited early:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`keepwire serve did not write admin.addr in time:\n${stderr}`);
    }
    try {
      address = readFileSync(join(dataDir, 'admin.addr'), 'utf8').trim() || undefined;
    } catch {}
    if (!address) await sleep(25);
  }
  return {
    child,
    pid: child.pid!,
    dataDir,
    adminUrl: `http://${address}`,
    adminToken: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(),
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
