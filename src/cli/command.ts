/**
 * What every subcommand file exports, and the argument parsing they share.
 * A command returns its exit code: 0 done, 1 failed, 2 used wrongly.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export interface Command {
  readonly name: string;
  /** One line for `keepwire --help`. */
  readonly summary: string;
  /** The full text for `keepwire NAME --help`. */
  readonly help: string;
  run(args: string[], io: CliIo): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `parseArgs` in strict mode, its errors turned into a UsageError that says what to do. */
export function parseOptions<T extends Options>(
  args: string[],
  options: T,
  command: string,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(
      `${(error as Error).message}\nRun "keepwire ${command} --help" for usage.`,
    );
  }
}

/** A whole number option, or a UsageError naming it. */
export function parseInteger(
  value: string | undefined,
  name: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^-?\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, got "${value}"`);
  }
  return number;
}

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}
