import { z } from 'zod';

/**
 * The listener limits shared by every listener (admin, agents, the Unix
 * socket, http sources), with their defaults in this one place.
 */

/**
 * Most connections one listener holds at once; over the cap a new connection
 * is closed at once and counted (keepwire_listener_connections_refused_total).
 * 1,024 keeps four listeners together under a default `ulimit -n` of 4,096
 * plus what the buffers, sinks and the watcher need.
 */
export const DEFAULT_MAX_CONNECTIONS = 1024;

export const maxConnectionsSchema = z
  .number()
  .int()
  .min(1)
  .max(1_000_000)
  .default(DEFAULT_MAX_CONNECTIONS);
