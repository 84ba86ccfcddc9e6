/**
 * The unix source: clients write NDJSON to a stream Unix socket (mode 0660).
 * Each chunk's complete lines are appended in one call; the socket is paused
 * while an append is pending, so a slow buffer pushes back on the writer.
 * An invalid or oversized line is counted and skipped; the connection goes
 * on. When the buffer is full (`whenFull: block`) the connection pauses and
 * retries after the buffer's Retry-After: nothing read is dropped.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../telemetry/index.ts';
import type { PipelineMetrics } from '../../pipeline-metrics.ts';
import { deliverWaiting } from '../append-waiting.ts';
import { LineSplitter } from '../line-splitter.ts';
import type { AppendRecords, Source } from '../source.ts';

export interface UnixSourceOptions {
  readonly name: string;
  /** Absolute socket path. */
  readonly path: string;
  readonly maxLineBytes: number;
  readonly maxConnections: number;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly append: AppendRecords;
}

export class UnixSource implements Source {
  readonly #options: UnixSourceOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #stopping = new AbortController();

  constructor(options: UnixSourceOptions) {
    this.#options = options;
    this.#server = createServer({ allowHalfOpen: false }, (socket) => this.#accept(socket));
    this.#server.maxConnections = options.maxConnections;
  }

  async start(): Promise<string> {
    // A socket file left by a crash would make listen fail with EADDRINUSE.
    rmSync(this.#options.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.#options.path, 0o660);
    return this.#options.path;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    const { name, metrics, maxLineBytes } = this.#options;
    const splitter = new LineSplitter(maxLineBytes, (reason) =>
      metrics.rejected.inc({ source: name, reason }),
    );
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      const records = splitter.push(chunk);
      if (records.length === 0) return;
      socket.pause();
      this.#deliver(records).then(
        () => socket.resume(),
        () => socket.destroy(),
      );
    });
    socket.on('end', () => {
      const records = splitter.end();
      if (records.length > 0) void this.#deliver(records).catch(() => {});
      socket.end();
    });
  }

  /** Appends, waiting out a full buffer; rejects only when the source stops. */
  async #deliver(records: Buffer[]): Promise<void> {
    await deliverWaiting(this.#options, records, this.#stopping.signal);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.end();
    setTimeout(() => {
      for (const socket of this.#sockets) socket.destroy();
    }, 2000).unref();
    await closed;
    rmSync(this.#options.path, { force: true });
  }
}
