import { z } from 'zod';
import { maxConnectionsSchema } from './limits.ts';
import { listenSchema } from './listen.ts';

/**
 * The agents listener: long-poll, SSE and results for enrolled agents.
 * TLS when certFile and keyFile are set; mutual TLS when caFile is set too
 * and requestCert is true (client certificates are then required).
 */
export const agentsSchema = z
  .strictObject({
    listen: listenSchema.prefault('127.0.0.1:8681'),
    tls: z
      .strictObject({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        caFile: z.string().min(1).optional(),
        requestCert: z.boolean().default(false),
      })
      .optional(),
    bodyLimitBytes: z.number().int().positive().default(1_048_576),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    keepAliveTimeoutMs: z.number().int().positive().default(65_000),
    maxConnections: maxConnectionsSchema,
    /** Idle time before the first TCP keepalive probe on an agent's socket. */
    tcpKeepAliveMs: z.number().int().positive().default(30_000),
    /** The long-poll wait when an agent sends no waitS. */
    defaultWaitS: z.number().int().min(1).max(1200).default(30),
    /** The longest long-poll an agent may ask for. */
    maxWaitS: z.number().int().min(1).max(1200).default(1200),
    /** How often an SSE stream sends a comment line to keep proxies and NATs awake. */
    heartbeatMs: z.number().int().min(100).default(15_000),
    /** Most commands in one response or one burst of SSE events. */
    maxCommandsPerResponse: z.number().int().min(1).max(1000).default(100),
    /** Byte budget of one long-poll response body (at least one command is always sent). */
    maxResponseBytes: z.number().int().min(1024).default(1_048_576),
    /** Answers to wrong tokens from one address are delayed up to this long. */
    authFailureMaxDelayMs: z.number().int().min(0).default(5_000),
  })
  .prefault({});

/** The Unix socket: management API and component subscriptions, trusted by file mode 0660. */
export const socketSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Default DATA_DIR/keepwire.sock. */
    path: z.string().min(1).optional(),
    bodyLimitBytes: z.number().int().positive().default(1_048_576),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    keepAliveTimeoutMs: z.number().int().positive().default(65_000),
    maxConnections: maxConnectionsSchema,
  })
  .prefault({});

/** The command plane: store and dispatcher. */
export const controlSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** How often deadlines are expired and departed waiters removed. */
    sweepIntervalMs: z.number().int().min(50).default(1_000),
    /** The deadline of a command created without timeoutS. */
    defaultTimeoutS: z.number().int().min(1).max(2_592_000).default(300),
    store: z
      .strictObject({
        type: z.literal('sqlite').default('sqlite'),
        /** Default DATA_DIR/control.db. */
        path: z.string().min(1).optional(),
        /**
         * normal: WAL commits survive a crash of the process (kill -9); a power
         * loss may roll back the last transactions. full: fsync each commit.
         */
        synchronous: z.enum(['normal', 'full']).default('normal'),
        busyTimeoutMs: z.number().int().min(0).default(5_000),
      })
      .prefault({}),
  })
  .prefault({});

export type AgentsConfig = z.output<typeof agentsSchema>;
export type SocketConfig = z.output<typeof socketSchema>;
export type ControlConfig = z.output<typeof controlSchema>;
