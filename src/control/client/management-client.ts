/**
 * The CLI's client for the management API: over the Unix socket (trusted by
 * its file mode, no token) or over the admin listener with the admin token.
 * Server errors come back as RemoteError carrying the server's code.
 */
import { join } from 'node:path';
import { Agent, type Dispatcher, request } from 'undici';
import { defaultDataDir } from '../../config/data-dir.ts';
import { UsageError } from '../../errors.ts';
import { RemoteError, UnreachableError } from '../errors.ts';
import type { ConnectionOptions } from './connection-options.ts';

export class ManagementClient {
  readonly #dispatcher: Dispatcher;
  readonly #origin: string;
  readonly #headers: Record<string, string>;
  readonly where: string;

  constructor(options: ConnectionOptions) {
    if (options.server !== undefined) {
      if (options.token === undefined) {
        throw new UsageError(
          '--server needs --token TOKEN or KEEPWIRE_TOKEN (the admin token; DATA_DIR/admin.token was not readable)',
        );
      }
      let url: URL;
      try {
        url = new URL(options.server);
      } catch {
        throw new UsageError(
          `--server takes a URL such as http://127.0.0.1:8680, got "${options.server}"`,
        );
      }
      this.#origin = url.origin;
      this.#dispatcher = new Agent({ connections: 1 });
      this.#headers = { authorization: `Bearer ${options.token}` };
      this.where = url.origin;
    } else {
      const socketPath =
        options.socket ?? join(options.dataDir ?? defaultDataDir(), 'keepwire.sock');
      this.#origin = 'http://localhost';
      this.#dispatcher = new Agent({ connect: { socketPath } });
      this.#headers = {};
      this.where = socketPath;
    }
  }

  async call<T>(method: Dispatcher.HttpMethod, path: string, body?: unknown): Promise<T> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.#origin + path, {
        method,
        dispatcher: this.#dispatcher,
        headers:
          body === undefined
            ? this.#headers
            : { ...this.#headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new UnreachableError(this.where, error);
    }
    const text = await response.body.text();
    if (response.statusCode >= 400) {
      let code = 'HTTP';
      let message = text;
      try {
        const parsed = JSON.parse(text) as { error?: { code: string; message: string } };
        if (parsed.error) ({ code, message } = parsed.error);
      } catch {}
      throw new RemoteError(code, message, response.statusCode);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  close(): Promise<void> {
    return this.#dispatcher.close();
  }
}
