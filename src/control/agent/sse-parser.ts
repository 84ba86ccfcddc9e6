/**
 * A minimal server-sent-events parser: feed it text chunks, it calls back
 * with each complete event (comment lines, such as heartbeats, are skipped).
 * Lines end with LF, CR LF or a lone CR, as the SSE grammar allows (a proxy
 * may rewrite them); a CR LF split across two chunks is one line end.
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

const LF = 10;
const CR = 13;

export class SseParser {
  readonly #onEvent: (event: SseEvent) => void;
  /** The start of a line whose end has not arrived yet. */
  #partial = '';
  /** The last chunk ended with CR: an LF first in the next one belongs to it. */
  #isAfterCr = false;
  #id: string | undefined;
  #event = 'message';
  #data: string[] = [];

  constructor(onEvent: (event: SseEvent) => void) {
    this.#onEvent = onEvent;
  }

  push(chunk: string): void {
    let start = 0;
    if (this.#isAfterCr && chunk.charCodeAt(0) === LF) start = 1;
    this.#isAfterCr = false;
    for (let i = start; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code !== LF && code !== CR) continue;
      this.#line(this.#partial + chunk.slice(start, i));
      this.#partial = '';
      if (code === CR) {
        if (i + 1 === chunk.length) this.#isAfterCr = true;
        else if (chunk.charCodeAt(i + 1) === LF) i += 1;
      }
      start = i + 1;
    }
    this.#partial += chunk.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) {
        this.#onEvent({ id: this.#id, event: this.#event, data: this.#data.join('\n') });
      }
      this.#id = undefined;
      this.#event = 'message';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.#id = value;
    else if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
  }
}
