/**
 * The dead-letter file of one sink: NDJSON, one line per event the sink
 * refused for good, `{time, sink, reason, status, response, event}`. The
 * event is embedded as JSON when it parses (it always should: sources
 * validate), else as a string. Appends are serialised; the file is
 * fdatasync'ed before the buffer is acknowledged, so a refused event is
 * always somewhere.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DeadLetter {
  readonly record: Buffer;
  readonly reason: string;
  readonly status: number | undefined;
  readonly response: string | undefined;
}

export class DeadLetterFile {
  readonly #path: string;
  readonly #sink: string;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(path: string, sink: string) {
    this.#path = path;
    this.#sink = sink;
  }

  get path(): string {
    return this.#path;
  }

  write(letters: readonly DeadLetter[]): Promise<void> {
    const result = this.#tail.then(() => this.#append(letters));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #append(letters: readonly DeadLetter[]): Promise<void> {
    const time = new Date().toISOString();
    let text = '';
    for (const letter of letters) {
      const head = JSON.stringify({
        time,
        sink: this.#sink,
        reason: letter.reason,
        status: letter.status ?? null,
        response: letter.response ?? null,
      });
      text += `${head.slice(0, -1)},"event":${embed(letter.record)}}\n`;
    }
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o750 });
    const handle = await open(this.#path, 'a', 0o600);
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

function embed(record: Buffer): string {
  const text = record.toString('utf8');
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}
