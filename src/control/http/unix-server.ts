/**
 * The Unix socket listener: the management API and component subscriptions,
 * trusted by the socket's file mode (0660: owner and group). The socket is
 * bound under umask 0117 so it never exists with a wider mode, then chmod-ed
 * to be sure; a stale file from a crashed run is removed first, but a socket
 * that still answers belongs to a running server and is left alone.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { SocketConfig } from '../../config/index.ts';
import { createHttpServer } from '../../server/http-server.ts';
import { checkSocketPath, explainListenError } from '../../server/startup-errors.ts';
import type { Logger, Registry } from '../../telemetry/index.ts';
import { SocketInUseError } from '../errors.ts';

export const SOCKET_MODE = 0o660;

export function createUnixServer(
  config: SocketConfig,
  logger: Logger,
  registry?: Registry,
): FastifyInstance {
  return createHttpServer({
    logger,
    listener: 'socket',
    registry,
    maxConnections: config.maxConnections,
    bodyLimitBytes: config.bodyLimitBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
}

export async function listenUnix(app: FastifyInstance, path: string): Promise<void> {
  checkSocketPath(path);
  await removeStaleSocket(path);
  await app.ready();
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) =>
      reject(explainListenError(error, 'the Unix socket (--socket, socket.path)'));
    app.server.once('error', onError);
    // The bind happens synchronously inside listen(): the umask covers it.
    const previous = process.umask(0o117);
    try {
      app.server.listen(path, () => {
        app.server.off('error', onError);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(path, SOCKET_MODE);
}

export function unlinkSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {}
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new SocketInUseError(path, false);
  const isAlive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (isAlive) throw new SocketInUseError(path);
  unlinkSync(path);
}
