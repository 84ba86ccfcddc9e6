/**
 * A decode pool thread (src/pipeline/sources/decode-thread.ts) that dies of
 * an uncaught exception when it receives batch number `at` (its URL's
 * `?at=N`, counting from 1) instead of answering it: a real thread crash in
 * the middle of a run, for the pool's failure tests. Batches before it are
 * decoded by the real thread code. Give DecodePool a data: URL that
 * imports it with the query (a Worker drops a file URL's query); never
 * import it on the main thread.
 */
import { parentPort } from 'node:worker_threads';

const at = Number(new URL(import.meta.url).searchParams.get('at'));
let seen = 0;
// Registered before the real thread's listener, and the port is an
// EventTarget: stopping the event keeps the crashing batch from reaching it.
parentPort!.addEventListener('message', (event) => {
  seen += 1;
  if (seen !== at) return;
  event.stopImmediatePropagation();
  throw new Error(`decode thread crash at batch ${at}`);
});
await import('../../src/pipeline/sources/decode-thread.ts');
