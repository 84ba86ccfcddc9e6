/**
 * The parts of undici the connection layer uses (Pool, Client, the TCP/TLS
 * connector and the request API), loaded from their own files. undici's
 * index also loads fetch, WebSocket, EventSource, cookies, mocks, caches and
 * every interceptor: ~115 ms of a `keepwire ship` start against ~40 ms for
 * these (docs/benchmarks.md). undici has no `exports` map, so these paths
 * are reachable; the versions are pinned in package.json, and every
 * connection-layer test fails at once if a path moves.
 *
 * The index mixes the request API into Dispatcher.prototype; loading the
 * files alone does not, so requests go through `request(dispatcher, ...)`.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);

export const Pool: typeof Undici.Pool = load('undici/lib/dispatcher/pool.js');
export const Client: typeof Undici.Client = load('undici/lib/dispatcher/client.js');
export const buildConnector: typeof Undici.buildConnector = load('undici/lib/core/connect.js');

type RequestApi = (
  this: Undici.Dispatcher,
  options: Undici.Dispatcher.RequestOptions,
) => Promise<Undici.Dispatcher.ResponseData>;
const requestApi: RequestApi = load('undici/lib/api/api-request.js');

/** `dispatcher.request(options)` of undici's public API, for a Pool or Client loaded here. */
export function request(
  dispatcher: Undici.Dispatcher,
  options: Undici.Dispatcher.RequestOptions,
): Promise<Undici.Dispatcher.ResponseData> {
  return requestApi.call(dispatcher, options);
}
