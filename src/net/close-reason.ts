/**
 * Why a pooled socket closed, from undici's `disconnect` error plus our own
 * bookkeeping. undici reports: `socket idle timeout` (UND_ERR_INFO) when our
 * keep-alive timer fired; `reset` (UND_ERR_INFO) when the socket was
 * retired after its last allowed request or the server answered
 * `Connection: close`; `other side closed` / `closed` (UND_ERR_SOCKET) when
 * the peer's FIN or RST arrived; ClientClosedError / ClientDestroyedError or
 * a null-error close when the Client itself was closed (pool shutdown).
 * Sockets retired past their lifetime are marked by the pool itself.
 */
import type { CloseReason } from './connection-ledger.ts';

export interface ClosingConnection {
  /** Requests written on the socket. */
  readonly requests: number;
  /** Uses allowed (0: unlimited). */
  readonly maxUses: number;
  readonly isShuttingDown: boolean;
}

export function classifyClose(connection: ClosingConnection, error: unknown): CloseReason {
  if (connection.isShuttingDown) return 'shutdown';
  const code = (error as { code?: string } | null)?.code;
  const message = (error as { message?: string } | null)?.message;
  if (code === 'UND_ERR_INFO' && message === 'socket idle timeout') return 'idle_timeout';
  if (code === 'UND_ERR_INFO' && message === 'reset') {
    const isUsedUp = connection.maxUses > 0 && connection.requests >= connection.maxUses;
    return isUsedUp ? 'max_uses' : 'peer_closed';
  }
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') return 'shutdown';
  if (code === 'UND_ERR_SOCKET' && (message === 'other side closed' || message === 'closed')) {
    return 'peer_closed';
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'peer_closed';
  return 'error';
}

/**
 * A request that failed before any response byte because the socket died
 * under it (the peer closed an idle keep-alive socket as we wrote): safe to
 * send again at once, since a batch POST is delivered at least once anyway.
 * A refused or timed-out connect is not in this class: that is an outage.
 */
export function isStaleSocketError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}
