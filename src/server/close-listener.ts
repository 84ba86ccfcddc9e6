/**
 * Closes a listener at shutdown within a grace period: it stops accepting at
 * once and closes idle keep-alive connections (new requests on open ones are
 * answered 503); requests in progress get `graceMs` to finish; then every
 * connection still open (a slow client mid-body, a peer that never reads) is
 * cut, so a handful of slow clients cannot hold the process up.
 */
import type { FastifyInstance } from 'fastify';

export async function closeListener(app: FastifyInstance, graceMs: number): Promise<void> {
  const closing = app.close();
  const grace = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await closing;
  } finally {
    clearTimeout(grace);
  }
}
