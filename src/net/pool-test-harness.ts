/**
 * Shared by the connection-layer tests: a SinkPool with test-sized options,
 * a POST helper that reads the response, and this process's sockets as
 * `ss` sees them.
 */
import { execFileSync } from 'node:child_process';
import { createRegistry } from '../telemetry/index.ts';
import { SinkPool, type SinkPoolOptions } from './sink-pool.ts';

export function testPool(origin: string, options: Partial<SinkPoolOptions> = {}): SinkPool {
  return new SinkPool({
    name: 'test',
    origin,
    connections: 4,
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    idleTimeoutMs: 4_000,
    hintMarginMs: 500,
    maxUsesPerConnection: 0,
    maxLifetimeMs: 0,
    keepAliveProbeMs: 30_000,
    registry: createRegistry({ processMetrics: false }),
    ...options,
  });
}

export async function post(pool: SinkPool, body = '{"event":1}\n'): Promise<number> {
  const response = await pool.request({
    method: 'POST',
    path: '/ingest',
    body,
    headers: { 'content-type': 'application/x-ndjson' },
  });
  await response.body.dump();
  return response.statusCode;
}

/** Lines of `ss -tanpoH state STATE` that belong to this process and to `port`. */
export function ownSockets(state: string, port: number): string[] {
  const text = execFileSync('ss', ['-tanpoH', 'state', state, `( dport = :${port} )`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return text.split('\n').filter((line) => line.includes(`pid=${process.pid},`));
}
