/**
 * A PostgreSQL cluster of the test's own (initdb in a temp dir, a free
 * loopback port), for tests that restart or stop the server: the shared
 * server on 5432 is never touched. As root, the cluster runs as the
 * `postgres` user (PostgreSQL refuses root). fsync is off: nothing here must
 * survive a power loss, and a fast restart is what the tests need.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

function binDir(): string {
  for (const version of ['17', '16', '15', '14']) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error(
    'no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  port: number;
  /** A URL of the `postgres` database, to create others from. */
  adminUrl: string;
  /** Creates a database and answers its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops fast (open connections are cut) and starts again on the same port. */
  restart(): Promise<void>;
  /** Stops at once and removes every file. */
  destroy(): Promise<void>;
  /** The same, synchronously: for a process 'exit' handler. */
  destroySync(): void;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'kw-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const exec = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args])
      : run(join(bin, tool), args);
  const data = join(dir, 'data');
  const port = await freePort();
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
  const ctl = (...args: string[]) => exec('pg_ctl', ['-D', data, '-l', join(dir, 'log'), ...args]);
  await ctl('-o', options, '-w', 'start');
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    adminUrl,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      await ctl('-m', 'fast', '-w', 'stop');
      await ctl('-o', options, '-w', 'start');
    },
    async destroy() {
      // Already stopped (a failed restart, an earlier destroy) is fine: the files go either way.
      await ctl('-m', 'immediate', '-w', 'stop').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
    destroySync() {
      if (!existsSync(dir)) return;
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      try {
        if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args]);
        else execFileSync(join(bin, 'pg_ctl'), args);
      } catch {
        // Not running any more: only the files are left to remove.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
