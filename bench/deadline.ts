/**
 * Time limits for the phases of a benchmark run, so that a run always ends
 * by itself and says where it stopped. A phase past its limit, or a wait
 * whose condition never comes true, prints one line naming the phase, what
 * it waited for and what it saw, and ends the process with exit code 2 (its
 * 'exit' handlers still stop the servers it started).
 */
import { setTimeout as sleep } from 'node:timers/promises';

const now = () => performance.now();

/** Ends the run: one clear line on stderr, exit code 2. */
export function abortRun(message: string): never {
  console.error(`\nbench stopped: ${message}`);
  process.exit(2);
}

/**
 * Runs one phase; if it has not finished after `limitS` seconds the run is
 * ended with `detail()` (what the phase saw so far) in the message.
 */
export async function phase<T>(
  name: string,
  limitS: number,
  work: () => Promise<T>,
  detail: () => string = () => '',
): Promise<T> {
  const timer = setTimeout(() => {
    const seen = detail();
    abortRun(`phase "${name}" did not finish within ${limitS} s${seen ? ` (${seen})` : ''}`);
  }, limitS * 1000);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `isDone` every `everyMs` until it answers true; past `limitS`
 * seconds the run is ended with `what` and `detail()`.
 */
export async function waitUntil(
  what: string,
  limitS: number,
  isDone: () => boolean | Promise<boolean>,
  detail: () => string | Promise<string> = () => '',
  everyMs = 20,
): Promise<void> {
  const deadline = now() + limitS * 1000;
  while (!(await isDone())) {
    if (now() > deadline) {
      const seen = await detail();
      abortRun(`${what}: not within ${limitS} s${seen ? ` (${seen})` : ''}`);
    }
    await sleep(everyMs);
  }
}
