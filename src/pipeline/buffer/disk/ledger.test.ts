import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDataDir } from '../../../../test/support/keepwire-process.ts';
import { Ledger } from './ledger.ts';

test('the ledger keeps the newest cursor; a torn slot falls back to the previous one', () => {
  const dir = makeDataDir('kw-ledger-');
  const ledger = new Ledger(dir);
  assert.equal(ledger.read(), undefined);
  ledger.write({ segment: 3, offset: 100 }, true);
  ledger.write({ segment: 3, offset: 250 }, false);
  ledger.write({ segment: 4, offset: 8 }, false);
  ledger.close();
  const reopened = new Ledger(dir);
  assert.deepEqual(reopened.read(), { segment: 4, offset: 8 });
  reopened.close();
  // Tear the newest slot (sequence 3 lives in slot 1): the one before wins.
  const path = join(dir, 'ledger');
  const bytes = readFileSync(path);
  bytes.writeUInt8(bytes.readUInt8(44) ^ 0xff, 44);
  writeFileSync(path, bytes);
  const torn = new Ledger(dir);
  assert.deepEqual(torn.read(), { segment: 3, offset: 250 });
  torn.write({ segment: 5, offset: 0 }, false); // overwrites the torn slot
  torn.close();
  const again = new Ledger(dir);
  assert.deepEqual(again.read(), { segment: 5, offset: 0 });
  again.close();
});
