/**
 * A scriptable HTTP collector for sink tests (real node:http on port 0):
 * `answer` decides each request's status and headers, every request is
 * kept decoded (gzip, zstd; NDJSON or JSON array) with its headers, and
 * `seqs` counts each `seq` field delivered with a 2xx.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';

export interface CollectedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly events: unknown[];
  readonly status: number;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export class TestCollector {
  readonly requests: CollectedRequest[] = [];
  readonly seqs = new Map<number, number>();
  answer: (index: number) => Answer = () => ({ status: 204 });
  readonly #server: Server;
  #url = '';

  constructor() {
    this.#server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const encoding = request.headers['content-encoding'];
      const body =
        encoding === 'gzip' ? gunzipSync(raw) : encoding === 'zstd' ? zstdDecompressSync(raw) : raw;
      const text = body.toString('utf8').trim();
      const events: unknown[] = text.startsWith('[')
        ? JSON.parse(text)
        : text === ''
          ? []
          : text.split('\n').map((line) => JSON.parse(line));
      const answer = this.answer(this.requests.length);
      this.requests.push({ headers: request.headers, raw, events, status: answer.status });
      if (answer.status >= 200 && answer.status < 300) {
        for (const event of events) {
          const seq = (event as { seq?: number }).seq;
          if (typeof seq === 'number') this.seqs.set(seq, (this.seqs.get(seq) ?? 0) + 1);
        }
      }
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    });
  }

  get url(): string {
    return this.#url;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as { port: number }).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
