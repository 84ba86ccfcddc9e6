/**
 * PostgreSQL errors told apart by SQLSTATE code, never by message text:
 * 23505 is a unique violation (its constraint name says which); classes 08
 * (connection exception) and 57 (operator intervention: the server shutting
 * down or restarting), and a socket error without a SQLSTATE, mean the store
 * is unreachable for now.
 */
import { KeepwireError } from '../../../errors.ts';
import { StoreUnavailableError } from '../../errors.ts';

const UNIQUE_VIOLATION = '23505';

interface PgErrorFields {
  code?: unknown;
  constraint?: unknown;
}

/** The violated constraint's name, or undefined when this is no unique violation. */
export function uniqueViolation(error: unknown): string | undefined {
  const fields = error as PgErrorFields | null;
  if (fields?.code !== UNIQUE_VIOLATION) return undefined;
  return typeof fields.constraint === 'string' ? fields.constraint : '';
}

function isSqlState(code: unknown): code is string {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** A connection failure becomes StoreUnavailableError; anything else is returned as is. */
export function mapConnectionError(error: unknown): unknown {
  if (error instanceof KeepwireError) return error;
  const code = (error as PgErrorFields | null)?.code;
  if (isSqlState(code)) {
    return code.startsWith('08') || code.startsWith('57')
      ? new StoreUnavailableError(error)
      : error;
  }
  // No SQLSTATE: a socket error (ECONNREFUSED, ECONNRESET) or the driver's
  // own "connection terminated" / timeout, all of which mean "not reachable".
  return error instanceof Error && !('severity' in error)
    ? new StoreUnavailableError(error)
    : error;
}
