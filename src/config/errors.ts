import { KeepwireError } from '../errors.ts';

/** The configuration failed validation; the message names each field and what was expected. */
export class ConfigInvalidError extends KeepwireError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source: string) {
    super('CONFIG_INVALID', `invalid configuration (${source}):\n  - ${issues.join('\n  - ')}`, {
      status: 400,
    });
    this.issues = issues;
  }
}

/** The configuration file could not be read or is not valid YAML. */
export class ConfigReadError extends KeepwireError {
  constructor(message: string, cause?: unknown) {
    super('CONFIG_READ', message, { cause });
  }
}
