/**
 * `npm run build` (and `npm pack` through prepack): compiles src/ into a
 * fresh dist/ with tsconfig.build.json (test files left out) and copies the
 * runtime files that are not TypeScript (the framer's WebAssembly module)
 * next to the modules that load them.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
/** Files loaded at run time by path, beside the compiled modules. */
const RUNTIME_ASSETS = ['.wasm'];

rmSync(dist, { recursive: true, force: true });
execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !RUNTIME_ASSETS.some((ext) => entry.name.endsWith(ext))) continue;
  const from = join(entry.parentPath, entry.name);
  const to = join(dist, relative(src, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}
