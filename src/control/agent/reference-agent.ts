/**
 * The reference agent: one undici Pool to the agents listener (keep-alive,
 * TCP keepalive probes), receiving commands by long-poll or SSE, running
 * them through the execution journal (never twice), and posting results
 * until the server accepts them. When the server is away it backs off with
 * full jitter. stop() aborts the wait, lets running actions finish, and
 * closes the pool.
 *
 * Several servers (nodes sharing one store): the agent uses one at a time
 * and moves to the next when a request fails to connect or is answered 5xx;
 * it tries each once at once, and backs off only when all have failed in a
 * row. Any node serves its commands, so nothing is tied to the one it left.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { CommandResult } from '../command.ts';
import type { ActionHandler } from './agent-actions.ts';
import { Backoff } from './backoff.ts';
import type { ExecutionJournal } from './execution-journal.ts';
import { SseParser } from './sse-parser.ts';

/** Answers to a result that no retry can change. */
const REFUSED_FOR_GOOD = new Set([400, 413, 415]);

export interface DeliveredCommand {
  id: string;
  action: { name: string; args: Record<string, unknown> };
  deadlineAt: string;
}

export interface ReferenceAgentOptions {
  /** The agents listener of each node, tried in order. */
  servers: string[];
  token: string;
  mode: 'long-poll' | 'sse';
  journal: ExecutionJournal;
  actions: Map<string, ActionHandler>;
  waitS?: number;
  log: (message: string) => void;
}

/** The server refused the token: retrying cannot help. */
/** A 401: the agent stops (a refused token never becomes valid by retrying). */
export class TokenRefusedError extends Error {
  /** The error code the server gave (CTRL_AGENT_TOKEN_REVOKED for a revoked token). */
  readonly code: string | undefined;
  constructor(body: string) {
    const code = codeOf(body);
    super(
      code === 'CTRL_AGENT_TOKEN_REVOKED'
        ? 'the server says this agent token was revoked'
        : code === 'CTRL_AGENT_TOKEN_EXPIRED'
          ? 'the server says this agent token expired'
          : `the server refused the agent token (revoked, rotated or never valid): ${body.slice(0, 300)}`,
    );
    this.code = code;
  }
}

function codeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

export class ReferenceAgent {
  readonly #o: ReferenceAgentOptions;
  readonly #pools: Pool[];
  #current = 0;
  #failuresInRow = 0;
  readonly #headers: Record<string, string>;
  readonly #stop = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #backoff = new Backoff();

  constructor(options: ReferenceAgentOptions) {
    this.#o = options;
    this.#pools = options.servers.map(
      (server) =>
        new Pool(new URL(server).origin, {
          connections: 4,
          keepAliveTimeout: 4_000,
          connect: { keepAlive: true, keepAliveInitialDelay: 30_000 },
        }),
    );
    this.#headers = { authorization: `Bearer ${options.token}` };
  }

  /** Runs until stop(); rejects with TokenRefusedError on a 401. */
  async run(): Promise<void> {
    for (const entry of this.#o.journal.unacknowledged()) {
      const done = entry.state === 'done' ? entry : this.#interrupted(entry.id);
      this.#track(this.#post(done.id, done.status!, done.result!));
    }
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        if (this.#o.mode === 'sse') await this.#stream(signal);
        else await this.#poll(signal);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof TokenRefusedError) throw error;
        const from = this.#o.servers[this.#current];
        if (this.#failover()) {
          this.#o.log(`${from} unavailable (${(error as Error).message}); trying ${this.#server}`);
          continue;
        }
        const delayMs = this.#backoff.next();
        this.#o.log(`server unavailable (${(error as Error).message}); retrying in ${delayMs} ms`);
        await sleep(delayMs, undefined, { signal }).catch(() => {});
      }
    }
    await Promise.allSettled([...this.#running]);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#running]);
    await Promise.all(this.#pools.map((pool) => pool.close()));
  }

  get #server(): string {
    return this.#o.servers[this.#current]!;
  }

  get #pool(): Pool {
    return this.#pools[this.#current]!;
  }

  /** Moves to the next server; false once every server has failed in a row (time to back off). */
  #failover(): boolean {
    this.#failuresInRow += 1;
    this.#current = (this.#current + 1) % this.#pools.length;
    if (this.#failuresInRow < this.#pools.length) return true;
    this.#failuresInRow = 0;
    return false;
  }

  #succeeded(): void {
    this.#failuresInRow = 0;
    this.#backoff.reset();
  }

  async #poll(signal: AbortSignal): Promise<void> {
    const waitS = this.#o.waitS ?? 30;
    const response = await this.#pool.request({
      method: 'GET',
      path: `/v1/commands?waitS=${waitS}`,
      headers: this.#headers,
      signal,
      headersTimeout: (waitS + 30) * 1000,
      bodyTimeout: 60_000,
    });
    const text = await response.body.text();
    this.#check(response.statusCode, text);
    this.#succeeded();
    if (response.statusCode === 200) {
      for (const command of (JSON.parse(text) as { commands: DeliveredCommand[] }).commands) {
        this.#track(this.#handle(command));
      }
    }
  }

  async #stream(signal: AbortSignal): Promise<void> {
    const response = await this.#pool.request({
      method: 'GET',
      path: '/v1/commands/stream',
      headers: { ...this.#headers, accept: 'text/event-stream' },
      signal,
      bodyTimeout: 120_000,
    });
    if (response.statusCode !== 200) this.#check(response.statusCode, await response.body.text());
    this.#succeeded();
    const parser = new SseParser((event) => {
      if (event.event === 'command')
        this.#track(this.#handle(JSON.parse(event.data) as DeliveredCommand));
    });
    // Bytes, decoded as a stream: a character cut between two chunks stays whole.
    const decoder = new TextDecoder();
    for await (const chunk of response.body) {
      parser.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    }
    throw new Error('the event stream ended');
  }

  #check(status: number, body: string): void {
    if (status === 401) throw new TokenRefusedError(body);
    if (status !== 200 && status !== 204) throw new Error(`HTTP ${status}: ${body.slice(0, 200)}`);
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    work.finally(() => this.#running.delete(work));
  }

  async #handle(command: DeliveredCommand): Promise<void> {
    const journal = this.#o.journal;
    const known = journal.get(command.id);
    if (known !== undefined) {
      // Delivered again (the server lost our result or its sent mark): answer, never re-run.
      const done = known.state === 'started' ? this.#interrupted(command.id) : known;
      return this.#post(command.id, done.status!, done.result!);
    }
    journal.begin(command.id);
    const { status, result } = await this.#execute(command);
    journal.complete(command.id, status, result);
    await this.#post(command.id, status, result);
  }

  #interrupted(id: string) {
    return this.#o.journal.complete(id, 'failure', {
      code: 'INTERRUPTED',
      message: 'the agent stopped while running this command; it was not run again',
    });
  }

  async #execute(
    command: DeliveredCommand,
  ): Promise<{ status: 'success' | 'failure'; result: CommandResult }> {
    const handler = this.#o.actions.get(command.action.name);
    if (handler === undefined) {
      const known = [...this.#o.actions.keys()].join(', ');
      return {
        status: 'failure',
        result: {
          code: 'UNKNOWN_ACTION',
          message: `this agent has no action "${command.action.name}"; it knows: ${known}`,
        },
      };
    }
    const timeoutMs = Math.max(1, Date.parse(command.deadlineAt) - Date.now());
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#stop.signal]);
    try {
      return { status: 'success', result: await handler(command.action.args, signal) };
    } catch (error) {
      return {
        status: 'failure',
        result: { code: 'ACTION_FAILED', message: (error as Error).message ?? String(error) },
      };
    }
  }

  /**
   * Posts until the server accepts (2xx) or the command is gone or ended (404,
   * 409). A result the server refuses for good (400, 413, 415: too large, too
   * deep) is replaced once by a failure saying so, so the command still ends
   * instead of being retried for ever.
   */
  async #post(id: string, status: 'success' | 'failure', result: CommandResult): Promise<void> {
    const backoff = new Backoff();
    let isReplaced = false;
    for (;;) {
      try {
        const response = await this.#pool.request({
          method: 'POST',
          path: `/v1/commands/${encodeURIComponent(id)}/result`,
          headers: { ...this.#headers, 'content-type': 'application/json' },
          body: JSON.stringify({ status, result }),
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const text = await response.body.text();
        if (
          response.statusCode < 300 ||
          response.statusCode === 404 ||
          response.statusCode === 409
        ) {
          if (response.statusCode >= 300)
            this.#o.log(`result for ${id} not needed: ${text.slice(0, 200)}`);
          this.#o.journal.acknowledge(id);
          return;
        }
        if (!isReplaced && REFUSED_FOR_GOOD.has(response.statusCode)) {
          this.#o.log(
            `the result of ${id} was refused (${response.statusCode}); reporting a failure`,
          );
          isReplaced = true;
          status = 'failure';
          result = {
            code: 'RESULT_REFUSED',
            message: `the server refused the result (HTTP ${response.statusCode}): ${text.slice(0, 500)}`,
          };
          continue;
        }
        throw new Error(`HTTP ${response.statusCode}`);
      } catch (error) {
        if (this.#stop.signal.aborted && this.#pool.closed) return;
        // Another node takes the result as well; the wait loop moves on its own failures.
        if (this.#pools.length > 1) this.#current = (this.#current + 1) % this.#pools.length;
        const delayMs = backoff.next();
        this.#o.log(
          `posting the result of ${id} failed (${(error as Error).message}); retrying in ${delayMs} ms`,
        );
        await sleep(delayMs, undefined, { signal: this.#stop.signal }).catch(() => {});
        if (this.#stop.signal.aborted) return;
      }
    }
  }
}
