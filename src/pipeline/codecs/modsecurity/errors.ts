import { KeepwireError } from '../../../errors.ts';

/**
 * A ModSecurity audit record that cannot be decoded: empty, binary, JSON
 * cut short or without its `transaction`, a native record without its `A`
 * or `Z` boundary. The message says what is wrong; the source that framed
 * the record adds where it was (file and line, or the request). Nothing of
 * the record is kept: it is counted and the source goes on.
 */
export class ModsecurityRecordError extends KeepwireError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('SHIP_RECORD_MALFORMED', message, { status: 400, cause: options.cause });
  }
}
