import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRecord, mulberry32 as seeded } from '../../../../bench/modsecurity-records.ts';
import { parsesAsObject, JSON_SAMPLES as SAMPLES } from '../../../../test/support/json-samples.ts';
import { crc32c } from '../../buffer/disk/crc32c.ts';
import { encodeFrames, frameBytes } from '../../buffer/disk/record-frame.ts';
import { isJsonObject, MAX_DEPTH } from '../json-object-check.ts';
import { type LineReject, LineSplitter } from '../line-splitter.ts';
import { isObjectShaped } from '../object-shape-check.ts';
import { type FrameCheck, type FramedChunk, WasmFramer } from './wasm-framer.ts';

/** Byte strings that are not valid UTF-8 (or just are), for inside and outside strings. */
const UTF8_EDGES = [
  [0xc3, 0xa9], // é
  [0xf0, 0x9f, 0x98, 0x80], // U+1F600
  [0xef, 0xbf, 0xbd], // U+FFFD
  [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF
  [0xff],
  [0x80],
  [0xc0, 0xaf], // overlong /
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf], // overlong
  [0xed, 0xa0, 0x80], // a surrogate
  [0xed, 0x9f, 0xbf], // U+D7FF
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xf0, 0x80, 0x80, 0x80], // overlong
  [0xc3], // cut
  [0xe2, 0x82], // cut
  [0xf0, 0x9f, 0x98], // cut
  [0xe2, 0x28, 0xa1],
];

function deep(depth: number): string {
  return `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}

function randomLine(random: () => number, index: number): Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const kind = random();
  if (kind < 0.35) return Buffer.from(makeRecord(index, random));
  if (kind < 0.55) {
    const bytes = [...Buffer.from(makeRecord(index, random))];
    const alphabet = Buffer.from('{}[]":,\\ 0-1e.truefalsn\t\r\u0001x');
    for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
      const at = Math.floor(random() * bytes.length);
      const byte = random() < 0.7 ? alphabet[Math.floor(random() * alphabet.length)]! : 0;
      const op = random();
      if (op < 0.3) bytes.splice(at, 1);
      else if (op < 0.6) bytes[at] = byte || Math.floor(random() * 256);
      else if (op < 0.8) bytes.splice(at, 0, byte);
      else bytes.splice(at, 0, ...pick(UTF8_EDGES));
    }
    return Buffer.from(bytes);
  }
  if (kind < 0.75) return Buffer.from(pick(SAMPLES));
  if (kind < 0.85) {
    const edge = Buffer.from(pick(UTF8_EDGES));
    const where = random();
    if (where < 0.4) return Buffer.concat([Buffer.from('{"a":"x'), edge, Buffer.from('y"}')]);
    if (where < 0.6) return Buffer.concat([Buffer.from('{"'), edge, Buffer.from('":1}')]);
    if (where < 0.8) return Buffer.concat([Buffer.from('{"a":1}'), edge]);
    return Buffer.concat([Buffer.from('{'), edge, Buffer.from('}')]);
  }
  if (kind < 0.9) return Buffer.from(pick(['', ' ', '\t', '  \t ', '\r']));
  if (kind < 0.95)
    return Buffer.from(
      Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)),
    );
  return Buffer.from(`{"k":"${'x'.repeat(Math.floor(random() * 2500))}"}`);
}

/** An input of `lines` lines, LF or CRLF, with or without a last newline. */
function randomInput(random: () => number, lines: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    parts.push(randomLine(random, i));
    if (i < lines - 1 || random() < 0.5) parts.push(Buffer.from(random() < 0.3 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

/** Cut points: 1-byte chunks, small ones, large ones, or empty chunks among them. */
function randomChunks(random: () => number, input: Buffer): Buffer[] {
  const style = random();
  const most =
    style < 0.15
      ? 1
      : style < 0.6
        ? 1 + Math.floor(random() * 64)
        : 1 + Math.floor(random() * 9000);
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const size = random() < 0.03 ? 0 : 1 + Math.floor(random() * most);
    chunks.push(input.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** What frame-thread.ts did before WebAssembly: LineSplitter + the check + encodeFrames. */
class ReferenceFramer {
  readonly #rejects: [LineReject, number][] = [];
  readonly #newSplitter: () => LineSplitter;
  #splitter: LineSplitter;

  constructor(maxLineBytes: number, check: FrameCheck) {
    this.#newSplitter = () =>
      new LineSplitter(
        maxLineBytes,
        (reason, line) => this.#rejects.push([reason, line]),
        check === 'shape' ? isObjectShaped : isJsonObject,
      );
    this.#splitter = this.#newSplitter();
  }

  push(chunk: Buffer): FramedChunk {
    return this.#framed(this.#splitter.push(chunk));
  }

  end(): FramedChunk {
    const framed = this.#framed(this.#splitter.end());
    this.#splitter = this.#newSplitter();
    return framed;
  }

  #framed(records: Buffer[]): FramedChunk {
    const frames = encodeFrames(records, frameBytes(records), Buffer.alloc(frameBytes(records)));
    return { frames, events: records.length, rejects: this.#rejects.splice(0) };
  }
}

function assertSame(actual: FramedChunk, expected: FramedChunk, where: string): void {
  assert.equal(actual.events, expected.events, `events, ${where}`);
  assert.deepEqual(actual.rejects, expected.rejects, `rejects, ${where}`);
  assert.ok(actual.frames.equals(expected.frames), `frames, ${where}`);
}

for (const check of ['json', 'shape'] as const) {
  test(`${check}: frames, events and rejects equal the JS path for random inputs cut at random`, () => {
    const random = seeded(check === 'json' ? 11 : 12);
    for (const maxLineBytes of [1, 16, 300, 2000, 1 << 20]) {
      // One framer per limit, several inputs through it: end() must start it afresh.
      const framer = new WasmFramer(maxLineBytes, check);
      for (let round = 0; round < 60; round++) {
        const reference = new ReferenceFramer(maxLineBytes, check);
        const input = randomInput(random, 1 + Math.floor(random() * (random() < 0.2 ? 150 : 30)));
        const chunks = randomChunks(random, input);
        chunks.forEach((chunk, index) => {
          const where = `max ${maxLineBytes}, round ${round}, chunk ${index} of ${chunks.length}`;
          assertSame(framer.push(chunk), reference.push(chunk), where);
        });
        assertSame(framer.end(), reference.end(), `max ${maxLineBytes}, round ${round}, end`);
      }
    }
  });

  test(`${check}: every two-chunk cut of an input with CRLF, multi-byte UTF-8 and an over-long line`, () => {
    const input = Buffer.concat([
      Buffer.from('{"é":"😀"}\r\n\r\n{"a":[1,{"b":"\\u00e9"}]}\r\n'),
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d, 0x0a]),
      Buffer.from(`{"k":"${'x'.repeat(40)}"}\n{"a":1}\r\n{}\n{"last":"no newline"}`),
    ]);
    for (const maxLineBytes of [20, 30, 49, 50, 51, 1000]) {
      const framer = new WasmFramer(maxLineBytes, check);
      for (let cut = 0; cut <= input.length; cut++) {
        const reference = new ReferenceFramer(maxLineBytes, check);
        for (const chunk of [input.subarray(0, cut), input.subarray(cut)])
          assertSame(framer.push(chunk), reference.push(chunk), `max ${maxLineBytes}, cut ${cut}`);
        assertSame(framer.end(), reference.end(), `max ${maxLineBytes}, cut ${cut}, end`);
      }
    }
  });

  test(`${check}: nesting at and beyond MAX_DEPTH, as lines of a chunked input`, () => {
    const input = Buffer.from(
      [deep(MAX_DEPTH), deep(MAX_DEPTH + 1), `{"a":${'['.repeat(MAX_DEPTH - 1)}}`, '{"a":1}'].join(
        '\n',
      ),
    );
    const framer = new WasmFramer(1 << 20, check);
    const reference = new ReferenceFramer(1 << 20, check);
    for (let at = 0; at < input.length; at += 65_521) {
      const chunk = input.subarray(at, at + 65_521);
      assertSame(framer.push(chunk), reference.push(chunk), `at ${at}`);
    }
    const last = framer.end();
    assertSame(last, reference.end(), 'end');
    assert.equal(last.events, 1);
  });
}

test('a line above maxLineBytes is reported once, where it starts, and skipped to its newline', () => {
  const framer = new WasmFramer(10, 'json');
  assert.deepEqual(framer.push(Buffer.from('{"a":1}\n{"long":"xx')), {
    frames: encodeFrames([Buffer.from('{"a":1}')], 15),
    events: 1,
    rejects: [['too_large', 2]],
  });
  const next = framer.push(Buffer.from('"still"}\n{"b":2}\n'));
  assert.deepEqual([next.events, next.rejects], [1, []]);
  assert.deepEqual(framer.end(), { frames: Buffer.alloc(0), events: 0, rejects: [] });
});

test('the JSON check alone agrees with JSON.parse on valid UTF-8, and with isJsonObject on any bytes', () => {
  const framer = new WasmFramer(1 << 20, 'json');
  for (const text of SAMPLES) {
    assert.equal(framer.isJsonObject(Buffer.from(text)), parsesAsObject(text), text);
  }
  const random = seeded(5);
  for (let i = 0; i < 3000; i++) {
    const bytes = randomLine(random, i);
    const expected = isJsonObject(bytes);
    assert.equal(framer.isJsonObject(bytes), expected, bytes.toString('hex'));
    const text = bytes.toString('utf8');
    if (Buffer.from(text).equals(bytes) && !text.includes('\u0000'))
      assert.equal(framer.isJsonObject(bytes), parsesAsObject(text), text);
  }
  for (let byte = 0; byte < 0x100; byte++) {
    // each byte inside a string, before an escape letter (a control byte is no escape)
    const bytes = Buffer.from([...Buffer.from('{"a":"x'), byte, ...Buffer.from('n"}')]);
    assert.equal(framer.isJsonObject(bytes), isJsonObject(bytes), `byte ${byte}`);
  }
  assert.equal(framer.isJsonObject(Buffer.from(deep(MAX_DEPTH))), true);
  assert.equal(framer.isJsonObject(Buffer.from(deep(MAX_DEPTH + 1))), false);
  assert.equal(framer.isJsonObject(Buffer.from('{"a":1}')), true, 'the stack starts afresh');
});

test('the shape check alone agrees with isObjectShaped, UTF-8 edges included', () => {
  const framer = new WasmFramer(1 << 20, 'shape');
  for (const edge of UTF8_EDGES) {
    for (const bytes of [
      Buffer.from([0x7b, ...edge, 0x7d]),
      Buffer.from([0x7b, ...edge, ...edge, 0x20, 0x7d]),
      Buffer.concat([Buffer.from(`{"${'a'.repeat(20)}`), Buffer.from(edge), Buffer.from('"}')]),
    ])
      assert.equal(framer.isObjectShaped(bytes), isObjectShaped(bytes), bytes.toString('hex'));
  }
  const random = seeded(6);
  for (let i = 0; i < 3000; i++) {
    const bytes = randomLine(random, i);
    assert.equal(framer.isObjectShaped(bytes), isObjectShaped(bytes), bytes.toString('hex'));
  }
  for (const text of ['', ' ', '{', '}', '{}', ' {} ', '\t{x}\r', '{ ', '}{'])
    assert.equal(framer.isObjectShaped(Buffer.from(text)), isObjectShaped(Buffer.from(text)), text);
});

test('frames in one chunk (CRCs sixteen at a time) carry the CRC32C of crc32c.ts', () => {
  const random = seeded(8);
  const framer = new WasmFramer(1 << 20, 'shape');
  for (let round = 0; round < 20; round++) {
    const lines = Array.from({ length: 16 * (1 + round) + (round % 5) }, () => {
      const length = random() < 0.2 ? Math.floor(random() * 20) : Math.floor(random() * 3000);
      const middle = Array.from({ length }, () => 0x20 + Math.floor(random() * 0x5f));
      return Buffer.from([0x7b, ...middle, 0x7d]);
    });
    const framed = framer.push(Buffer.from(`${lines.join('\n')}\n`));
    assert.equal(framed.events, lines.length);
    let at = 0;
    for (const line of lines) {
      assert.equal(framed.frames.readUInt32LE(at), line.length);
      assert.equal(framed.frames.readUInt32LE(at + 4), crc32c(line), `round ${round}`);
      at += 8 + line.length;
    }
  }
});

test('crc32c equals crc32c.ts and the known vector', () => {
  const framer = new WasmFramer(1, 'json');
  assert.equal(framer.crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(framer.crc32c(Buffer.alloc(0)), 0);
  const random = seeded(7);
  for (let i = 0; i < 500; i++) {
    const length = i < 100 ? i : Math.floor(random() * 5000);
    const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
    assert.equal(framer.crc32c(bytes), crc32c(bytes), `length ${length}`);
  }
});
