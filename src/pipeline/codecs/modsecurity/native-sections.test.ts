import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom, testSeed } from '../../../../test/support/seeded-random.ts';
import { readE } from './native-sections.ts';

/** What section E's `\xHH` unescaping means, as one regular expression. */
function unescapeByRegex(text: string): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return body.replace(/\\x([01][0-9a-fA-F]|7[fF])/g, (_all, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

test('section E: \\x00-\\x1f and \\x7f become their bytes, any other \\x text stays', () => {
  assert.equal(readE('<html>\\x0d\\x0a</html>\\x0D\\x0A\n'), '<html>\r\n</html>\r\n');
  assert.equal(readE('\\x7f\\x7F\\x20\\x80\\x1g\\x\\\\x0a'), '\x7f\x7f\\x20\\x80\\x1g\\x\\\n');
  const random = seededRandom(testSeed('section E escapes'));
  const pieces = ['\\x', '\\', 'x', '0', '1', '7', 'a', 'F', 'f', 'g', '\n', 'é', ' '];
  for (let round = 0; round < 5000; round++) {
    let text = '';
    for (let i = Math.floor(random() * 24); i > 0; i--)
      text += pieces[Math.floor(random() * pieces.length)];
    assert.equal(readE(text), unescapeByRegex(text), JSON.stringify(text));
  }
});
