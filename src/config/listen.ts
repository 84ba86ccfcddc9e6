import { z } from 'zod';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (all interfaces on loopback's
 * side: 127.0.0.1). Port 0 asks the kernel for a free port.
 */
export function parseListen(text: string): ListenAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '127.0.0.1' : host, port };
}

export function formatListen(address: ListenAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** A zod schema for a listen address written as `HOST:PORT`. */
export const listenSchema = z.string().transform((text, ctx) => {
  const parsed = parseListen(text);
  if (!parsed) {
    ctx.addIssue({
      code: 'custom',
      message: `expected HOST:PORT (e.g. 127.0.0.1:8680 or [::1]:8680), got "${text}"`,
    });
    return z.NEVER;
  }
  return parsed;
});
