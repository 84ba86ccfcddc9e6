/**
 * The reference agent: one undici Pool to the agents listener (keep-alive,
 * TCP keepalive probes), receiving commands by long-poll or SSE, running
 * them through the execution journal (never twice), and posting results
 * until the server accepts them. When the server is away it backs off with
 * full jitter. stop() aborts the wait, lets running actions finish, and
 * closes the pool.
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
  server: string;
  token: string;
  mode: 'long-poll' | 'sse';
  journal: ExecutionJournal;
  actions: Map<string, ActionHandler>;
  waitS?: number;
  log: (message: string) => void;
}

/** The server refused the token: retrying cannot help. */
export class TokenRefusedError extends Error {}

export class ReferenceAgent {
  readonly #o: ReferenceAgentOptions;
  readonly #pool: Pool;
  readonly #headers: Record<string, string>;
  readonly #stop = new AbortController();
  readonly #running = new Set<Promise<void>>();
  readonly #backoff = new Backoff();

  constructor(options: ReferenceAgentOptions) {
    this.#o = options;
    this.#pool = new Pool(new URL(options.server).origin, {
      connections: 4,
      keepAliveTimeout: 4_000,
      connect: { keepAlive: true, keepAliveInitialDelay: 30_000 },
    });
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
    await this.#pool.close();
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
    this.#backoff.reset();
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
    this.#backoff.reset();
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
    if (status === 401) throw new TokenRefusedError(`the server refused the agent token: ${body}`);
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
