/**
 * The command plane's errors. Each code is documented in docs/errors.md.
 */
import { KeepwireError } from '../errors.ts';

/** The same client-supplied id was used before with a different body. */
export class CommandConflictError extends KeepwireError {
  constructor(id: string) {
    super(
      'CTRL_COMMAND_CONFLICT',
      `command id "${id}" was already used with a different body; send the same body to repeat it, or pick a new id`,
      { status: 409 },
    );
  }
}

export class CommandNotFoundError extends KeepwireError {
  constructor(id: string) {
    super('CTRL_COMMAND_NOT_FOUND', `no command with id "${id}"; list them with GET /v1/commands`, {
      status: 404,
    });
  }
}

/** A result or cancel for a command that already ended. */
export class CommandFinishedError extends KeepwireError {
  readonly finalStatus: string;
  constructor(id: string, status: string) {
    super(
      'CTRL_COMMAND_FINISHED',
      `command "${id}" already ended as ${status}; nothing to do (read it with GET /v1/commands/${id})`,
      { status: 409 },
    );
    this.finalStatus = status;
  }
}

export class AgentNotFoundError extends KeepwireError {
  constructor(id: string) {
    super(
      'CTRL_AGENT_NOT_FOUND',
      `no enrolled agent with id "${id}"; enrol it with "keepwire agents enroll --name NAME"`,
      { status: 404 },
    );
  }
}

export class AgentNameTakenError extends KeepwireError {
  constructor(name: string) {
    super(
      'CTRL_AGENT_NAME_TAKEN',
      `an agent named "${name}" is already enrolled; pick another name`,
      { status: 409 },
    );
  }
}

/** An agent request with a token that was revoked: never retried by the agent. */
export class AgentTokenRevokedError extends KeepwireError {
  constructor() {
    super(
      'CTRL_AGENT_TOKEN_REVOKED',
      'this agent token was revoked; enrol the agent again with "keepwire agents enroll --name NAME" and use the new token',
      { status: 401 },
    );
  }
}

/** An agent request with a token past its expiry (enrolled or rotated with a TTL). */
export class AgentTokenExpiredError extends KeepwireError {
  constructor(expiresAt?: string) {
    super(
      'CTRL_AGENT_TOKEN_EXPIRED',
      `this agent token expired${expiresAt === undefined ? '' : ` at ${expiresAt}`}; get a new one with "keepwire agents rotate ID" and restart the agent with it`,
      { status: 401 },
    );
  }
}

/** A management call (rotate, a new command) for an agent whose token was revoked. */
export class AgentRevokedError extends KeepwireError {
  constructor(id: string) {
    super(
      'CTRL_AGENT_REVOKED',
      `agent "${id}" was revoked and cannot be used again; enrol a new agent with "keepwire agents enroll --name NAME"`,
      { status: 409 },
    );
  }
}

export class GroupEmptyError extends KeepwireError {
  constructor(name: string) {
    super(
      'CTRL_GROUP_EMPTY',
      `group "${name}" has no member agents; add one with PUT /v1/groups/${name}/members/AGENT_ID or "keepwire agents enroll --group ${name}"`,
      { status: 422 },
    );
  }
}

/** Arguments that do not match the built-in action's schema. */
export class InvalidArgsError extends KeepwireError {
  constructor(message: string) {
    super('CTRL_INVALID_ARGS', message, { status: 400 });
  }
}

/** The Unix socket path is held by a running server. */
export class SocketInUseError extends KeepwireError {
  constructor(path: string, isSocket = true) {
    super(
      'CTRL_SOCKET_IN_USE',
      isSocket
        ? `another process is listening on ${path}; stop it or set socket.path (--socket) to another path`
        : `${path} exists and is not a socket; remove it or set socket.path (--socket) to another path`,
    );
  }
}

/** The store file could not be opened or migrated. */
export class StoreError extends KeepwireError {
  constructor(message: string, cause?: unknown) {
    super('CTRL_STORE', message, { cause, status: 500 });
  }
}

/** The shared store cannot be reached (PostgreSQL down or restarting): try again. */
export class StoreUnavailableError extends KeepwireError {
  constructor(cause: unknown) {
    super(
      'CTRL_STORE_UNAVAILABLE',
      `the command store is unreachable: ${(cause as Error)?.message ?? cause}; keepwire reconnects by itself, try again shortly`,
      { cause, status: 503, retryable: true },
    );
  }
}

/** A management call from the CLI failed on the server's side. */
export class RemoteError extends KeepwireError {
  constructor(code: string, message: string, status: number) {
    super('CTRL_REMOTE', `${message} (${code}, HTTP ${status})`, { status });
  }
}

/** The CLI could not reach the server. */
export class UnreachableError extends KeepwireError {
  constructor(where: string, cause: unknown) {
    super(
      'CTRL_UNREACHABLE',
      `cannot reach keepwire at ${where}: ${(cause as Error)?.message ?? cause}; is "keepwire serve" running? (use --socket PATH, --data-dir DIR or --server URL --token TOKEN)`,
      { cause, retryable: true },
    );
  }
}
