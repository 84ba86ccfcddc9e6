/**
 * A real nginx (Debian's package) for connection tests and benchmarks: its
 * own prefix directory under a temporary folder, a free loopback port, a
 * config from options, started in the foreground with its own master and
 * stopped by its own pid (never by name). The access log records each
 * request's connection serial number and request count on it, so a test can
 * count TCP connections from the server's side.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NginxOptions {
  /** `keepalive_timeout` value, e.g. `1s`, or `1s 1s` to also send `Keep-Alive: timeout=1`. */
  readonly keepaliveTimeout?: string;
  /** `keepalive_requests`: requests per connection before nginx closes it. */
  readonly keepaliveRequests?: number;
  /** The location's body; default `return 204;`. */
  readonly location?: string;
}

export interface AccessLogLine {
  /** nginx's connection serial number. */
  readonly connection: number;
  /** Which request this was on its connection (1 for the first). */
  readonly connectionRequests: number;
  readonly status: number;
}

export class Nginx {
  readonly prefix: string;
  readonly port: number;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  private constructor(prefix: string, port: number) {
    this.prefix = prefix;
    this.port = port;
  }

  static async start(options: NginxOptions = {}): Promise<Nginx> {
    const prefix = mkdtempSync(join(tmpdir(), 'keepwire-nginx-'));
    for (const dir of ['logs', 'tmp']) mkdirSync(join(prefix, dir));
    const port = await freePort();
    writeFileSync(join(prefix, 'nginx.conf'), config(prefix, port, options));
    const nginx = new Nginx(prefix, port);
    await nginx.#spawn();
    return nginx;
  }

  async #spawn(): Promise<void> {
    const prefix = this.prefix;
    const child = spawn(
      'nginx',
      [
        '-p',
        `${prefix}/`,
        '-c',
        join(prefix, 'nginx.conf'),
        '-g',
        `daemon off; master_process on; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log;`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    this.#process = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 5_000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`nginx did not start: ${stderr}${readOr(join(prefix, 'error.log'))}`);
      }
      await sleep(20);
    }
  }

  /** Fast shutdown, then a new master on the same port, config and logs (a collector restart). */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The master's pid. */
  get pid(): number {
    return this.#process!.pid!;
  }

  /** The pids of the current worker processes (children of the master). */
  workerPids(): number[] {
    const text = readOr(`/proc/${this.pid}/task/${this.pid}/children`);
    return text.split(/\s+/).filter(Boolean).map(Number);
  }

  /** Graceful reload (SIGHUP): new workers start, old ones close idle connections and exit. */
  async reload(): Promise<void> {
    const before = this.workerPids();
    this.#process!.kill('SIGHUP');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const now = this.workerPids();
      if (now.length > 0 && !now.some((pid) => before.includes(pid))) return;
      await sleep(20);
    }
  }

  /** Fast shutdown (SIGTERM): nginx closes every connection, idle ones included. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  accessLog(): AccessLogLine[] {
    return readOr(join(this.prefix, 'logs', 'access.log'))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [connection, requests, status] = line.split(' ').map(Number);
        return { connection: connection!, connectionRequests: requests!, status: status! };
      });
  }

  /** Distinct TCP connections that carried at least one request (since the last restart: nginx numbers them per master). */
  connectionCount(): number {
    return new Set(this.accessLog().map((line) => line.connection)).size;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.prefix, { recursive: true, force: true });
  }
}

function config(prefix: string, port: number, options: NginxOptions): string {
  return `worker_processes 1;
events { worker_connections 4096; }
http {
  log_format counting '$connection $connection_requests $status';
  access_log ${prefix}/logs/access.log counting;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  keepalive_timeout ${options.keepaliveTimeout ?? '75s'};
  keepalive_requests ${options.keepaliveRequests ?? 1000};
  client_max_body_size 64m;
  server {
    listen 127.0.0.1:${port};
    location / { ${options.location ?? 'return 204;'} }
  }
}
`;
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:PORT. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
