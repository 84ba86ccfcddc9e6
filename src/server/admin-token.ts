import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToken, hashToken } from '../auth/token.ts';

export interface AdminToken {
  /** SHA-256 of the token; the only form kept in memory. */
  readonly hash: string;
  /** Set only when the token was generated now, to be printed once. */
  readonly generated?: string;
  readonly path: string;
}

/**
 * The admin token: the configured one, else the one in DATA_DIR/admin.token,
 * else a new random token written there with mode 0600 (readable by the
 * operator who started Keepwire, and by no one else).
 */
export function loadAdminToken(dataDir: string, configured?: string): AdminToken {
  const path = join(dataDir, 'admin.token');
  if (configured) return { hash: hashToken(configured), path };
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length > 0) return { hash: hashToken(token), path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  const token = generateToken();
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'w' });
  return { hash: hashToken(token), generated: token, path };
}
