/**
 * The base of every error Keepwire raises on purpose. Each error carries a
 * stable, documented `code` (see docs/errors.md; a test fails when one is
 * missing), so scripts and operators can match on it rather than on prose.
 * Each plane declares its own subclasses in its own `errors.ts`, calling
 * super() with the literal code as its first argument.
 */
export interface KeepwireErrorOptions {
  cause?: unknown;
  /** HTTP status to answer with when the error reaches a listener. */
  status?: number;
  /** Whether retrying the same operation may succeed. */
  retryable?: boolean;
}

export class KeepwireError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: KeepwireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
    this.retryable = options.retryable ?? false;
  }

  /** The shape every listener answers with: `{"error": {"code", "message"}}`. */
  toJSON(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isKeepwireError(error: unknown): error is KeepwireError {
  return error instanceof KeepwireError;
}

/** A command-line usage mistake: the CLI prints it with a hint and exits 2. */
export class UsageError extends KeepwireError {
  constructor(message: string) {
    super('USAGE', message, { status: 400 });
  }
}

/** A request the caller got wrong, answered 400 with the field named. */
export class BadRequestError extends KeepwireError {
  constructor(message: string, options: KeepwireErrorOptions = {}) {
    super('BAD_REQUEST', message, { ...options, status: 400 });
  }
}

export class UnauthorizedError extends KeepwireError {
  constructor(message = 'missing or invalid bearer token') {
    super('UNAUTHORIZED', message, { status: 401 });
  }
}

/** A Content-Encoding the listener cannot read: 415, nothing of the body kept. */
export class UnsupportedEncodingError extends KeepwireError {
  constructor(encoding: string, hint: string) {
    super('UNSUPPORTED_ENCODING', `Content-Encoding "${encoding}" is not supported; ${hint}`, {
      status: 415,
    });
  }
}

export class NotFoundError extends KeepwireError {
  constructor(message: string) {
    super('NOT_FOUND', message, { status: 404 });
  }
}
