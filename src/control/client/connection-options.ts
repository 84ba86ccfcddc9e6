/**
 * The connection options of `keepwire agents` and `keepwire commands`, apart
 * from the client itself so that `--help` loads no HTTP client.
 */
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
  --data-dir DIR      find the socket in DIR (default: the one serve uses:
                      $KEEPWIRE_DATA_DIR, else /var/lib/keepwire when
                      writable, else ~/.local/state/keepwire)
  --server URL        use the admin listener instead, e.g. http://127.0.0.1:8680
  --token TOKEN       the admin token for --server (or KEEPWIRE_TOKEN)
  --json              print JSON`;

export function connectionFrom(
  values: { socket?: string; 'data-dir'?: string; server?: string; token?: string },
  env: NodeJS.ProcessEnv,
): ConnectionOptions {
  return {
    socket: values.socket,
    dataDir: values['data-dir'] ?? defaultDataDir({ env }),
    server: values.server,
    token: values.token ?? env.KEEPWIRE_TOKEN,
  };
}
