/**
 * The schema migration run both stores share. Each store keeps its own
 * dialect's migrations (an ordered list of SQL in its migrations.ts) and the
 * way it makes them atomic; the rules live here, once:
 * - the version applied so far is the highest number in `schema_version`;
 * - a database at a version newer than this code knows is refused, never
 *   guessed at;
 * - each later migration runs once, in order, and its number is recorded
 *   (with the time) in the same transaction as its statements;
 * - a migration that fails is named in the error; an error that already
 *   says what happened (the store unreachable) passes through unchanged.
 * Add a migration by appending to a store's list; never edit a shipped one.
 *
 * Why steps: node:sqlite is synchronous and the SQLite store migrates in its
 * constructor, before it prepares its statements; pg is asynchronous. The
 * run is written once, as a generator of steps, and each store carries the
 * steps out on its own connection: `driveMigrations` synchronously,
 * `driveMigrationsAsync` with await. A step that throws is thrown back into
 * the run, which decides what the error says.
 */
import { KeepwireError } from '../../errors.ts';
import { StoreError } from '../errors.ts';

/** The same in both dialects (SQLite gives `bigint` integer affinity). */
export const SCHEMA_VERSION_TABLE =
  'CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)';
export const CURRENT_VERSION = 'SELECT MAX(version) AS version FROM schema_version';

export type MigrationStep =
  /** Make sure schema_version exists; answer the highest version in it (0 for none). */
  | { readonly kind: 'read-version' }
  /** Run `sql` and record `version` in schema_version, atomically. */
  | { readonly kind: 'apply'; readonly version: number; readonly sql: string };

/** The run: its steps, each answered by the driver; returns the version reached. */
export function* migrationRun(
  migrations: readonly string[],
): Generator<MigrationStep, number, number | undefined> {
  const current = (yield { kind: 'read-version' }) ?? 0;
  if (current > migrations.length) {
    throw new StoreError(
      `the command store is at schema version ${current}, newer than this keepwire knows (${migrations.length}); run a newer keepwire`,
    );
  }
  for (let version = current + 1; version <= migrations.length; version += 1) {
    try {
      yield { kind: 'apply', version, sql: migrations[version - 1]! };
    } catch (error) {
      if (error instanceof KeepwireError) throw error;
      throw new StoreError(
        `schema migration ${version} failed: ${(error as Error).message}`,
        error,
      );
    }
  }
  return migrations.length;
}

type Run = Generator<MigrationStep, number, number | undefined>;
type Outcome = { readonly value: number | undefined } | { readonly error: unknown };

/** Hands one step's outcome back to the run: its answer, or its error thrown into it. */
function resume(run: Run, outcome: Outcome): IteratorResult<MigrationStep, number> {
  return 'error' in outcome ? run.throw(outcome.error) : run.next(outcome.value);
}

/** Carries out the run with synchronous steps (node:sqlite). */
export function driveMigrations(
  migrations: readonly string[],
  carryOut: (step: MigrationStep) => number | undefined,
): number {
  const run = migrationRun(migrations);
  let next = run.next();
  while (!next.done) {
    let outcome: Outcome;
    try {
      outcome = { value: carryOut(next.value) };
    } catch (error) {
      outcome = { error };
    }
    next = resume(run, outcome);
  }
  return next.value;
}

/** Carries out the run with asynchronous steps (pg). */
export async function driveMigrationsAsync(
  migrations: readonly string[],
  carryOut: (step: MigrationStep) => Promise<number | undefined>,
): Promise<number> {
  const run = migrationRun(migrations);
  let next = run.next();
  while (!next.done) {
    let outcome: Outcome;
    try {
      outcome = { value: await carryOut(next.value) };
    } catch (error) {
      outcome = { error };
    }
    next = resume(run, outcome);
  }
  return next.value;
}
