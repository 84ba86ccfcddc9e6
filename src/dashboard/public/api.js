// The admin API from the page: the token lives in sessionStorage only and
// goes in the Authorization header, never in a URL.
const KEY = 'keepwire.adminToken';

export const token = {
  get: () => sessionStorage.getItem(KEY) ?? '',
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

export async function api(path, options = {}) {
  const headers = { authorization: `Bearer ${token.get()}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: 'no-store',
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// GET /v1/events through fetch() (EventSource cannot send headers). Calls
// onEvent(name, data) per event; resolves when the stream ends.
export async function streamEvents(onEvent, signal) {
  const response = await fetch('/v1/events', {
    headers: { authorization: `Bearer ${token.get()}` },
    cache: 'no-store',
    signal,
  });
  if (!response.ok)
    throw new ApiError(response.status, await response.json().catch(() => undefined));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) onEvent(name, JSON.parse(data));
      end = buffer.indexOf('\n\n');
    }
  }
}
