/**
 * A minimal server-sent-events parser: feed it text chunks, it calls back
 * with each complete event (comment lines, such as heartbeats, are skipped).
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export class SseParser {
  readonly #onEvent: (event: SseEvent) => void;
  #buffer = '';

  constructor(onEvent: (event: SseEvent) => void) {
    this.#onEvent = onEvent;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    let end = this.#buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      this.#parse(block);
      end = this.#buffer.indexOf('\n\n');
    }
  }

  #parse(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) this.#onEvent({ id, event, data: data.join('\n') });
  }
}
