/**
 * Where state lives when no data dir is given: the single answer used by
 * `keepwire serve` (config.dataDir's default) and by the commands that find
 * its Unix socket and token (`keepwire agents`, `keepwire commands`).
 *
 * 1. KEEPWIRE_DATA_DIR, the setting's environment variable, when set.
 * 2. Run from the project checkout (the TypeScript sources, `npm start`):
 *    the checkout's own var/, whatever the working directory.
 * 3. Installed: /var/lib/keepwire when this user can write it, or can create
 *    it (it is missing and /var/lib is writable: root, or a package's setup).
 * 4. Else a per-user folder: $XDG_STATE_HOME/keepwire, by default
 *    ~/.local/state/keepwire.
 *
 * Nothing is created here: a client command must not make folders as it
 * looks for a socket. Loads no dependency (the CLI's start-up stays small).
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYSTEM_DATA_DIR = '/var/lib/keepwire';

export interface DataDirOptions {
  env?: NodeJS.ProcessEnv;
  /** The project checkout when running from its sources, else undefined (installed). */
  checkout?: string | undefined;
  /** The system-wide folder (tests point it elsewhere). */
  systemDir?: string;
  home?: string;
}

/** This module runs as TypeScript only from the checkout; the package holds dist/*.js. */
const CHECKOUT = import.meta.url.endsWith('.ts')
  ? fileURLToPath(new URL('../..', import.meta.url))
  : undefined;

export function defaultDataDir(options: DataDirOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.KEEPWIRE_DATA_DIR) return env.KEEPWIRE_DATA_DIR;
  const checkout = 'checkout' in options ? options.checkout : CHECKOUT;
  if (checkout !== undefined) return join(checkout, 'var');
  const system = options.systemDir ?? SYSTEM_DATA_DIR;
  if (isWritableOrCreatable(system)) return system;
  const xdg = env.XDG_STATE_HOME;
  const stateHome =
    xdg && isAbsolute(xdg) ? xdg : join(options.home ?? homedir(), '.local', 'state');
  return join(stateHome, 'keepwire');
}

function isWritableOrCreatable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  }
  try {
    accessSync(dirname(dir), constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
