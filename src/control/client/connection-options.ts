/**
 * The connection options of `keepwire agents` and `keepwire commands`, apart
 * from the client itself so that `--help` loads no HTTP client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDataDir } from '../../config/data-dir.ts';

export interface ConnectionOptions {
  socket?: string | undefined;
  dataDir?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
}

/** The shared connection options of `keepwire agents` and `keepwire commands`. */
export const CONNECTION_OPTIONS = {
  socket: { type: 'string' },
  'data-dir': { type: 'string' },
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const CONNECTION_HELP = `Connection (the Unix socket by default):
  --socket PATH       the server's Unix socket (default: DATA_DIR/keepwire.sock)
  --data-dir DIR      find the socket and admin.token in DIR (default: the
                      one serve uses: $KEEPWIRE_DATA_DIR, else
                      /var/lib/keepwire when writable, else
                      ~/.local/state/keepwire)
  --server URL        use the admin listener instead, e.g. http://127.0.0.1:8680
  --token TOKEN       the admin token for --server (or KEEPWIRE_TOKEN; else
                      DATA_DIR/admin.token when this user can read it)
  --json              print JSON`;

export function connectionFrom(
  values: { socket?: string; 'data-dir'?: string; server?: string; token?: string },
  env: NodeJS.ProcessEnv,
): ConnectionOptions {
  const dataDir = values['data-dir'] ?? defaultDataDir({ env });
  // An empty value counts as unset.
  const token =
    values.token ||
    env.KEEPWIRE_TOKEN ||
    (values.server === undefined ? undefined : readAdminToken(dataDir));
  return { socket: values.socket, dataDir, server: values.server, token };
}

/** The token serve wrote (or was given) in DATA_DIR/admin.token, when readable here. */
function readAdminToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
