import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigInvalidError, ConfigReadError } from './errors.ts';
import { loadConfig, settingPath } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function file(text: string): string {
  files += 1;
  const path = join(dir, `keepwire-${files}.yaml`);
  writeFileSync(path, text);
  return path;
}

test('defaults need no file and are frozen', () => {
  const config = loadConfig({ env: {} });
  assert.equal(
    config.dataDir,
    new URL('../../var', import.meta.url).pathname,
    "the checkout's var/",
  );
  assert.deepEqual(config.admin.listen, { host: '127.0.0.1', port: 8680 });
  assert.equal(config.watch.intervalMs, 5000);
  assert.ok(Object.isFrozen(config.admin));
  assert.throws(() => {
    (config.watch as { intervalMs: number }).intervalMs = 1;
  });
});

test('file, then environment, then overrides', () => {
  const path = file('dataDir: /srv/kw\nwatch:\n  intervalMs: 2000\n  attribute: false\n');
  const config = loadConfig({
    file: path,
    env: { KEEPWIRE_WATCH__INTERVAL_MS: '3000', KEEPWIRE_LOG__LEVEL: 'warn', OTHER: 'x' },
    overrides: { 'admin.listen': '[::1]:0', dataDir: undefined },
  });
  assert.equal(config.dataDir, '/srv/kw');
  assert.equal(config.watch.intervalMs, 3000);
  assert.equal(config.watch.attribute, false);
  assert.equal(config.log.level, 'warn');
  assert.deepEqual(config.admin.listen, { host: '::1', port: 0 });
});

test('unknown keys and bad values name the field', () => {
  const path = file('watch:\n  intervalSecs: 5\nadmin:\n  listen: nowhere\n');
  const error = (() => {
    try {
      loadConfig({ file: path, env: {} });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof ConfigInvalidError);
  assert.equal(error.code, 'CONFIG_INVALID');
  assert.match(error.message, /watch: unknown key\(s\) "intervalSecs"/);
  assert.match(error.message, /admin\.listen: expected HOST:PORT/);
});

test('environment values are typed and checked', () => {
  assert.throws(
    () => loadConfig({ env: { KEEPWIRE_WATCH__INTERVAL_MS: 'soon' } }),
    /watch\.intervalMs: .*number/,
  );
});

test('unreadable or non-mapping files are CONFIG_READ', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/keepwire.yaml', env: {} }), ConfigReadError);
  assert.throws(() => loadConfig({ file: file('- a\n- b\n'), env: {} }), /YAML mapping/);
  assert.throws(() => loadConfig({ file: file('a: [\n'), env: {} }), /not valid YAML/);
});

test('only KEEPWIRE_ names with __ or naming a top-level setting are settings', () => {
  assert.equal(settingPath('KEEPWIRE_WATCH__INTERVAL_MS'), 'watch.intervalMs');
  assert.equal(settingPath('KEEPWIRE_DATA_DIR'), 'dataDir');
  for (const cli of ['KEEPWIRE_TOKEN', 'KEEPWIRE_AGENT_TOKEN', 'KEEPWIRE_FD_SCAN_WORKERS_FROM']) {
    assert.equal(settingPath(cli), undefined, cli);
  }
  assert.equal(settingPath('OTHER'), undefined);
  const config = loadConfig({
    env: { KEEPWIRE_TOKEN: 'kw_x', KEEPWIRE_AGENT_TOKEN: 'kw_y', KEEPWIRE_DATA_DIR: '/srv/kw' },
  });
  assert.equal(config.dataDir, '/srv/kw');
});
