/** The connection layer every plane uses for outbound HTTP: pooled, watched, counted. */
export { classifyClose, isStaleSocketError } from './close-reason.ts';
export {
  CLOSE_REASONS,
  type CloseReason,
  ConnectionLedger,
  type LedgerSnapshot,
} from './connection-ledger.ts';
export {
  defaultPoolFactory,
  type PooledRequest,
  type PoolFactory,
  SinkPool,
  type SinkPoolOptions,
} from './sink-pool.ts';
