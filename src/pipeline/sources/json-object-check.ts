/**
 * Whether bytes hold exactly one JSON object (RFC 8259 grammar), checked on
 * the bytes without building the object: sources only need to know that an
 * event is valid, and JSON.parse spends most of its time allocating what
 * they would throw away (it was a third of `keepwire ship`'s CPU). One pass,
 * an explicit stack of open containers (at most MAX_DEPTH deep: deeper
 * nesting is refused), no allocation per byte. Strings must be valid UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF): an
 * event is stored as its bytes, and bytes no decoder reads back the same are
 * refused rather than stored. ASCII costs nothing more: the byte table that
 * finds the end of a string stops at bytes >= 0x80 too.
 */
const OBJECT = 1;
/** Deeper nesting is refused (JSON.parse itself gives up at a few thousand). */
export const MAX_DEPTH = 1 << 16;
const STACK = new Uint8Array(MAX_DEPTH);
const ARRAY = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isHex(byte: number): boolean {
  return isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

/** 1 for bytes that end a run of plain string bytes: a quote, a backslash, a control character. */
const STRING_STOP = new Uint8Array(256);
for (let byte = 0; byte < 0x20; byte++) STRING_STOP[byte] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;
for (let byte = 0x80; byte < 0x100; byte++) STRING_STOP[byte] = 1;

/** Length of the UTF-8 sequence at `at` (lead byte >= 0x80), or 0 when it is not valid UTF-8. */
function utf8Length(bytes: Uint8Array, at: number, end: number): number {
  const lead = bytes[at]!;
  let need: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) need = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    need = 2;
    if (lead === 0xe0)
      low = 0xa0; // overlong
    else if (lead === 0xed) high = 0x9f; // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    need = 3;
    if (lead === 0xf0)
      low = 0x90; // overlong
    else if (lead === 0xf4) high = 0x8f; // above U+10FFFF
  } else return 0;
  if (at + need >= end) return 0;
  const second = bytes[at + 1]!;
  if (second < low || second > high) return 0;
  for (let k = 2; k <= need; k++) {
    const byte = bytes[at + k]!;
    if (byte < 0x80 || byte > 0xbf) return 0;
  }
  return need + 1;
}

/** Index after the string starting at `at` (a quote), or -1. */
function skipString(bytes: Uint8Array, at: number, end: number): number {
  let i = at + 1;
  while (i < end) {
    while (i < end && STRING_STOP[bytes[i]!] === 0) i += 1;
    if (i >= end) return -1;
    const byte = bytes[i]!;
    if (byte === QUOTE) return i + 1;
    if (byte < 0x20) return -1;
    if (byte >= 0x80) {
      const length = utf8Length(bytes, i, end);
      if (length === 0) return -1;
      i += length;
      continue;
    }
    if (byte === BACKSLASH) {
      const escaped = bytes[i + 1];
      if (escaped === 0x75 /* u */) {
        if (i + 5 >= end) return -1;
        for (let k = 2; k < 6; k++) if (!isHex(bytes[i + k]!)) return -1;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (
        escaped !== QUOTE &&
        escaped !== BACKSLASH &&
        escaped !== 0x2f &&
        escaped !== 0x62 &&
        escaped !== 0x66 &&
        escaped !== 0x6e &&
        escaped !== 0x72 &&
        escaped !== 0x74
      )
        return -1;
      i += 2;
      continue;
    }
    i += 1;
  }
  return -1;
}

/** Index after the number starting at `at`, or -1. */
function skipNumber(bytes: Uint8Array, at: number, end: number): number {
  let i = at;
  if (bytes[i] === 0x2d) i += 1;
  if (i >= end) return -1;
  if (bytes[i] === 0x30) i += 1;
  else if (isDigit(bytes[i]!)) while (i < end && isDigit(bytes[i]!)) i += 1;
  else return -1;
  if (bytes[i] === 0x2e) {
    i += 1;
    if (i >= end || !isDigit(bytes[i]!)) return -1;
    while (i < end && isDigit(bytes[i]!)) i += 1;
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i += 1;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i += 1;
    if (i >= end || !isDigit(bytes[i]!)) return -1;
    while (i < end && isDigit(bytes[i]!)) i += 1;
  }
  return i;
}

function skipWord(bytes: Uint8Array, at: number, end: number, word: string): number {
  if (at + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word.charCodeAt(k)) return -1;
  return at + word.length;
}

export function isJsonObject(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  const stack = STACK;
  let depth = 0;
  let i = start;
  while (i < end && isSpace(bytes[i]!)) i += 1;
  if (bytes[i] !== 0x7b) return false;
  // After an opening brace or a comma in an object: expect a key (or } right after {).
  let expectValue = true;
  for (;;) {
    while (i < end && isSpace(bytes[i]!)) i += 1;
    if (i >= end) return false;
    const byte = bytes[i]!;
    if (expectValue) {
      const top = depth > 0 ? stack[depth - 1] : undefined;
      if (byte === 0x7b) {
        if (depth === STACK.length) return false;
        stack[depth++] = OBJECT;
        i += 1;
        while (i < end && isSpace(bytes[i]!)) i += 1;
        if (bytes[i] === 0x7d) {
          depth -= 1;
          i += 1;
          expectValue = false;
        } else {
          i = readKey(bytes, i, end);
          if (i < 0) return false;
        }
        if (depth === 0 && !expectValue) break;
        continue;
      }
      if (byte === 0x5b) {
        if (depth === STACK.length) return false;
        stack[depth++] = ARRAY;
        i += 1;
        while (i < end && isSpace(bytes[i]!)) i += 1;
        if (bytes[i] === 0x5d) {
          depth -= 1;
          i += 1;
          expectValue = false;
        }
        continue;
      }
      if (byte === QUOTE) i = skipString(bytes, i, end);
      else if (byte === 0x74) i = skipWord(bytes, i, end, 'true');
      else if (byte === 0x66) i = skipWord(bytes, i, end, 'false');
      else if (byte === 0x6e) i = skipWord(bytes, i, end, 'null');
      else i = skipNumber(bytes, i, end);
      if (i < 0 || top === undefined) return false;
      expectValue = false;
      continue;
    }
    const top = depth > 0 ? stack[depth - 1] : undefined;
    if (byte === 0x2c) {
      i += 1;
      if (top === OBJECT) {
        while (i < end && isSpace(bytes[i]!)) i += 1;
        i = readKey(bytes, i, end);
        if (i < 0) return false;
      }
      expectValue = true;
      continue;
    }
    if ((byte === 0x7d && top === OBJECT) || (byte === 0x5d && top === ARRAY)) {
      depth -= 1;
      i += 1;
      if (depth === 0) break;
      continue;
    }
    return false;
  }
  while (i < end && isSpace(bytes[i]!)) i += 1;
  return i === end;
}

/** Reads `"key" :` at `at`; returns the index after the colon, or -1. */
function readKey(bytes: Uint8Array, at: number, end: number): number {
  if (bytes[at] !== QUOTE) return -1;
  let i = skipString(bytes, at, end);
  if (i < 0) return -1;
  while (i < end && isSpace(bytes[i]!)) i += 1;
  return bytes[i] === 0x3a ? i + 1 : -1;
}
