#!/usr/bin/env node
// The `keepwire` command. In the project checkout it runs the TypeScript
// sources (Node.js 24 strips types); installed from the package, which has no
// src/, it runs the build in dist/. Keepwire needs Node.js 24 or newer: the
// version is checked before anything else is imported, so an older Node.js
// prints this message instead of failing on an import it lacks.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `keepwire needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      'Install Node.js 24 and put it first on PATH, or in the project run\n' +
      '"npm run keepwire -- ARGS", which uses the pinned Node.js 24.\n',
  );
  process.exit(1);
}

const { existsSync } = await import('node:fs');
const { enableCompileCache } = await import('node:module');
// Before loading any module of ours: caches V8 code (and type stripping) on disk.
const cache = enableCompileCache();
// Worker threads (the fd scan of `sockets --by process`) find the cache through the environment.
if (cache.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory;

const sources = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(sources) ? sources : new URL('../dist/cli/main.js', import.meta.url);
const { runProcess } = await import(entry.href);
await runProcess();
