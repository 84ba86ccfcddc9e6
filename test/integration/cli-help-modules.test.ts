/**
 * `--help` of every subcommand starts only what a help text needs: no
 * dependency from node_modules (zod, fastify, pino, undici...) and none of
 * the planes. Checked by the modules a real run loads (module-load-log.ts);
 * the time it takes is measured in bench/cli-startup.ts, not here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir, runCli } from '../support/keepwire-process.ts';

const MODULE_LOG_HOOK = new URL('../support/module-load-log.ts', import.meta.url).pathname;
const SUBCOMMANDS = ['serve', 'ship', 'sockets', 'sysctl', 'agents', 'commands', 'agent'];

test('keepwire --help and every subcommand --help load no dependency', async () => {
  const dir = makeDataDir('kw-help-modules-');
  for (const args of [['--help'], ...SUBCOMMANDS.map((name) => [name, '--help'])]) {
    const log = join(dir, `${args.join('_')}.log`);
    const run = await runCli(args, {
      env: { NODE_OPTIONS: `--import=${MODULE_LOG_HOOK}`, KEEPWIRE_MODULE_LOG: log },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Usage: keepwire/);
    const loaded = readFileSync(log, 'utf8').split('\n');
    assert.ok(
      loaded.some((url) => url.endsWith('/src/cli/main.ts')),
      'the log records our modules',
    );
    const heavy = loaded.filter(
      (url) =>
        url.includes('/node_modules/') ||
        /\/src\/(main|config\/(load|schema)|control\/(index|command|control-plane)|telemetry\/\w+)\.ts$/.test(
          url,
        ),
    );
    assert.deepEqual(heavy, [], `keepwire ${args.join(' ')} loads only what its help needs`);
  }
});
