/**
 * Loaded with `--import` (through NODE_OPTIONS) into a CLI run: appends the
 * URL of every module the process loads to the file named by
 * KEEPWIRE_MODULE_LOG, so a test can check what a command's start-up pays
 * for (`keepwire ship --to` must not load zod).
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.KEEPWIRE_MODULE_LOG;
if (log !== undefined) {
  registerHooks({
    load(url, context, next) {
      appendFileSync(log, `${url}\n`);
      return next(url, context);
    },
  });
}
