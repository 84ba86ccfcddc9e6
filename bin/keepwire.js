#!/usr/bin/env node
// Runs the built CLI (dist/) when present, else the TypeScript sources
// directly (Node.js 24 strips types). Keepwire needs Node.js 24 or newer.
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';

// Before loading any TypeScript: caches its type stripping and V8 code on disk.
const cache = enableCompileCache();
// Worker threads (the fd scan of `sockets --by process`) find the cache through the environment.
if (cache.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory;

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `keepwire needs Node.js 24 or newer; this is ${process.version}.\n` +
      'Run it through "npm run keepwire -- ARGS" in the project, which uses the pinned Node.js 24.\n',
  );
  process.exit(1);
}
const built = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(built) ? built : new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
