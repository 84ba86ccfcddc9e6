/*
 * The JSON object check of framer.c, with exactly the semantics of
 * isJsonObject (json-object-check.ts): RFC 8259, whitespace around, nesting
 * refused beyond MAX_DEPTH, invalid UTF-8 inside strings refused, control
 * bytes inside strings refused. It reads p[0, n) with p[n] == 0, a sentinel
 * no JSON position accepts, so it needs no bounds checks; vector loads may
 * read up to 15 bytes past it. Included by framer.c only.
 */

#define MAX_DEPTH 65536u /* json-object-check.ts MAX_DEPTH */
#define OBJECT 1
#define ARRAY 2

static u8 stack[MAX_DEPTH];

static int is_space(u32 b) { return b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09; }
static int is_digit(u32 b) { return b - 0x30 < 10; }
static int is_hex(u32 b) { return is_digit(b) || (b | 0x20) - 0x61 < 6; }

static const u8 *skip_space(const u8 *q) {
  while (is_space(*q)) q++;
  return q;
}

/* After the valid UTF-8 sequence whose lead byte (>= 0x80) is at q, or 0
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). The
 * sentinel fails every continuation test, so nothing past it is read. */
static const u8 *skip_utf8(const u8 *q) {
  u32 lead = *q, low = 0x80, high = 0xbf, need;
  if (lead - 0xc2 < 0x1e) {
    need = 1;
  } else if (lead - 0xe0 < 0x10) {
    need = 2;
    if (lead == 0xe0) low = 0xa0;
    else if (lead == 0xed) high = 0x9f;
  } else if (lead - 0xf0 < 5) {
    need = 3;
    if (lead == 0xf0) low = 0x90;
    else if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (q[1] < low || q[1] > high) return 0;
  for (u32 k = 2; k <= need; k++)
    if ((u32)q[k] - 0x80 > 0x3f) return 0;
  return q + need + 1;
}

/* After the string whose opening quote is just before q, or 0. Sixteen bytes
 * per step up to the next quote, backslash, control byte (the sentinel is one)
 * or byte >= 0x80 (checked as UTF-8). */
static const u8 *skip_string(const u8 *q) {
  const v128_t quote = wasm_i8x16_splat('"');
  const v128_t backslash = wasm_i8x16_splat('\\');
  const v128_t space = wasm_i8x16_splat(0x20);
  for (;;) {
    v128_t v = wasm_v128_load(q);
    v128_t stop = wasm_v128_or(wasm_v128_or(wasm_i8x16_eq(v, quote), wasm_i8x16_eq(v, backslash)),
                               wasm_u8x16_lt(v, space));
    u32 bits = (u32)(wasm_i8x16_bitmask(stop) | wasm_i8x16_bitmask(v));
    if (bits == 0) {
      q += 16;
      continue;
    }
    q += __builtin_ctz(bits);
    if (*q == '"') return q + 1;
    if (*q < 0x20) return 0;
    if (*q >= 0x80) {
      q = skip_utf8(q);
      if (!q) return 0;
      continue;
    }
    u8 escaped = q[1]; /* the sentinel at worst */
    if (escaped == 'u') {
      if (!is_hex(q[2]) || !is_hex(q[3]) || !is_hex(q[4]) || !is_hex(q[5])) return 0;
      q += 6;
    } else if (escaped == '"' || escaped == '\\' || escaped == '/' || escaped == 'b' ||
               escaped == 'f' || escaped == 'n' || escaped == 'r' || escaped == 't') {
      q += 2;
    } else {
      return 0;
    }
  }
}

static const u8 *skip_number(const u8 *q) {
  if (*q == '-') q++;
  if (*q == '0') q++;
  else if (is_digit(*q))
    while (is_digit(*q)) q++;
  else return 0;
  if (*q == '.') {
    q++;
    if (!is_digit(*q)) return 0;
    while (is_digit(*q)) q++;
  }
  if (*q == 'e' || *q == 'E') {
    q++;
    if (*q == '+' || *q == '-') q++;
    if (!is_digit(*q)) return 0;
    while (is_digit(*q)) q++;
  }
  return q;
}

/* `true`, `null` (4 bytes) or `false`: the sentinel differs from every letter,
 * so a word cut by the end of the line never matches. */
static const u8 *skip_word(const u8 *q, u32 word4, int has_e) {
  if (load32(q) != word4) return 0;
  if (!has_e) return q + 4;
  return q[4] == 'e' ? q + 5 : 0;
}

/* `"key" :` at q; after the colon, or 0. */
static const u8 *read_key(const u8 *q) {
  if (*q != '"') return 0;
  q = skip_string(q + 1);
  if (!q) return 0;
  q = skip_space(q);
  return *q == ':' ? q + 1 : 0;
}

static int is_json_object(const u8 *p, u32 n) {
  const u8 *end = p + n;
  const u8 *q = skip_space(p);
  u32 depth = 0;
  int expect_value = 1; /* after { [ , : (a key is read with its { or ,) */
  if (*q != '{') return 0;
  for (;;) {
    q = skip_space(q);
    if (q >= end) return 0;
    u8 byte = *q;
    if (expect_value) {
      if (byte == '{' || byte == '[') {
        if (depth == MAX_DEPTH) return 0;
        stack[depth++] = byte == '{' ? OBJECT : ARRAY;
        q = skip_space(q + 1);
        if (*q == byte + 2) { /* } or ] */
          depth--;
          q++;
          expect_value = 0;
          if (depth == 0) break;
        } else if (byte == '{') {
          q = read_key(q);
          if (!q) return 0;
        }
        continue;
      }
      if (byte == '"') q = skip_string(q + 1);
      else if (byte == 't') q = skip_word(q, 0x65757274u /* true */, 0);
      else if (byte == 'f') q = skip_word(q, 0x736c6166u /* fals */, 1);
      else if (byte == 'n') q = skip_word(q, 0x6c6c756eu /* null */, 0);
      else q = skip_number(q);
      if (!q || depth == 0) return 0;
      expect_value = 0;
      continue;
    }
    u8 top = depth > 0 ? stack[depth - 1] : 0;
    if (byte == ',') {
      q++;
      if (top == OBJECT) {
        q = read_key(skip_space(q));
        if (!q) return 0;
      }
      expect_value = 1;
      continue;
    }
    if ((byte == '}' && top == OBJECT) || (byte == ']' && top == ARRAY)) {
      depth--;
      q++;
      if (depth == 0) break;
      continue;
    }
    return 0;
  }
  return skip_space(q) == end;
}

