/*
 * The shape check of framer.c (`ship --shape-only`), with exactly the
 * semantics of isObjectShaped (object-shape-check.ts). Included by
 * framer.c only, after json-check.h (is_space).
 */

/* Strict UTF-8 as Node's buffer.isUtf8 judges it (Unicode table 3-7): no
 * overlongs, no surrogates, nothing above U+10FFFF. ASCII 16 bytes a step. */
static int is_utf8(const u8 *p, u32 n) {
  u32 i = 0;
  while (i < n) {
    if (i + 16 <= n && wasm_i8x16_bitmask(wasm_v128_load(p + i)) == 0) {
      i += 16;
      continue;
    }
    u32 b = p[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    u32 size, low = 0x80, high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) size = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      size = 3;
      if (b == 0xe0) low = 0xa0;
      else if (b == 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      size = 4;
      if (b == 0xf0) low = 0x90;
      else if (b == 0xf4) high = 0x8f;
    } else return 0;
    if (n - i < size) return 0;
    if (p[i + 1] < low || p[i + 1] > high) return 0;
    for (u32 k = 2; k < size; k++)
      if ((p[i + k] & 0xc0) != 0x80) return 0;
    i += size;
  }
  return 1;
}

static int is_object_shaped(const u8 *p, u32 n) {
  if (n == 0) return 0;
  u32 first = 0, last = n - 1;
  while (first <= last && is_space(p[first])) {
    if (first == last) return 0; /* all spaces */
    first++;
  }
  while (last > first && is_space(p[last])) last--;
  return last > first && p[first] == '{' && p[last] == '}' && is_utf8(p, n);
}

