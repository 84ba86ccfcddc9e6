import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultDataDir } from './data-dir.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-data-dir-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const home = join(dir, 'home');
const installed = { checkout: undefined, home } as const;

test('KEEPWIRE_DATA_DIR wins; from the sources, the checkout var/ whatever the working directory', () => {
  assert.equal(defaultDataDir({ env: { KEEPWIRE_DATA_DIR: '/srv/kw' } }), '/srv/kw');
  assert.equal(defaultDataDir({ env: {} }), new URL('../../var', import.meta.url).pathname);
});

test('installed: the system folder when it is writable, or missing under a writable parent', () => {
  const system = join(dir, 'lib', 'keepwire');
  mkdirSync(join(dir, 'lib'));
  assert.equal(defaultDataDir({ ...installed, env: {}, systemDir: system }), system);
  mkdirSync(system);
  assert.equal(defaultDataDir({ ...installed, env: {}, systemDir: system }), system);
});

test('installed: a per-user folder when the system one cannot be used', () => {
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, '');
  const unusable = join(file, 'keepwire');
  assert.equal(
    defaultDataDir({ ...installed, env: {}, systemDir: unusable }),
    join(home, '.local', 'state', 'keepwire'),
  );
  assert.equal(
    defaultDataDir({ ...installed, env: { XDG_STATE_HOME: '/x/state' }, systemDir: unusable }),
    '/x/state/keepwire',
  );
  assert.equal(
    defaultDataDir({ ...installed, env: { XDG_STATE_HOME: 'relative' }, systemDir: unusable }),
    join(home, '.local', 'state', 'keepwire'),
    'a relative XDG_STATE_HOME is ignored, as the XDG spec says',
  );
});
