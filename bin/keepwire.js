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

const { existsSync, lstatSync, mkdirSync, statSync } = await import('node:fs');
const { enableCompileCache } = await import('node:module');
const { tmpdir } = await import('node:os');
const { dirname } = await import('node:path');

/**
 * Node.js's compile cache (V8 code and the type stripping of our .ts files,
 * kept on disk): a start of `keepwire sockets` loads its modules from it
 * instead of compiling them (docs/production.md, "Compile cache"). Not
 * Node.js's default directory, which every user of the host shares: V8 runs
 * what it reads there, so the cache lives in a directory of this user's own,
 * TMPDIR/keepwire-compile-cache-UID, created 0700 and used only while it is
 * still a directory (not a link) of this user's that nobody else can write
 * to, in a parent that others cannot rename it out of. Anything else, and
 * the command runs without a cache, silently. NODE_DISABLE_COMPILE_CACHE=1
 * turns it off; a NODE_COMPILE_CACHE the caller set wins.
 */
function compileCacheDir() {
  const { NODE_COMPILE_CACHE, NODE_DISABLE_COMPILE_CACHE } = process.env;
  if (NODE_COMPILE_CACHE || NODE_DISABLE_COMPILE_CACHE) return undefined; // Node.js obeys them itself
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = `${tmpdir()}/keepwire-compile-cache-${uid}`;
  try {
    // Others may rename entries of a parent they can write to, unless it is sticky (/tmp is).
    const parent = statSync(dirname(dir));
    if ((parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0) return undefined;
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (error.code !== 'EEXIST') return undefined;
  }
  try {
    const own = lstatSync(dir);
    if (!own.isDirectory() || own.uid !== uid || (own.mode & 0o077) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return dir;
}

// Before loading any module of ours.
const cacheDir = compileCacheDir();
if (cacheDir !== undefined) {
  const cache = enableCompileCache(cacheDir);
  // Worker threads (the fd scan of `sockets --by process`) find it through the environment.
  if (cache.directory !== undefined) process.env.NODE_COMPILE_CACHE ??= cache.directory;
}

const sources = new URL('../src/cli/main.ts', import.meta.url);
const entry = existsSync(sources) ? sources : new URL('../dist/cli/main.js', import.meta.url);
const { runProcess } = await import(entry.href);
await runProcess();
