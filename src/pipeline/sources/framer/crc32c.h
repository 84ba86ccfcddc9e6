/*
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78) for framer.c, with
 * the results of crc32c.ts: slice-by-16 one payload at a time, and
 * crc32c_16 for sixteen payloads at once. Included by framer.c only (one
 * translation unit, so everything inlines); needs its types.
 */

static u32 crc_table[16 * 256];
static void build_nibble_table(void);

static void build_table(void) {
  for (u32 n = 0; n < 256; n++) {
    u32 c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_table[n] = c;
  }
  for (u32 n = 0; n < 256; n++) {
    u32 c = crc_table[n];
    for (u32 t = 1; t < 16; t++) {
      c = crc_table[c & 0xff] ^ (c >> 8);
      crc_table[t * 256 + n] = c;
    }
  }
  build_nibble_table();
}

static u32 load32(const u8 *p) {
  u32 value;
  __builtin_memcpy(&value, p, 4); /* little-endian, unaligned */
  return value;
}

static u32 crc32c(u32 previous, const u8 *p, u32 n) {
  const u32 *t = crc_table;
  u32 crc = ~previous;
  const u8 *end = p + n;
  while (end - p >= 16) {
    u32 a = crc ^ load32(p), b = load32(p + 4), c = load32(p + 8), d = load32(p + 12);
    crc = t[3840 + (a & 0xff)] ^ t[3584 + ((a >> 8) & 0xff)] ^ t[3328 + ((a >> 16) & 0xff)] ^
          t[3072 + (a >> 24)] ^ t[2816 + (b & 0xff)] ^ t[2560 + ((b >> 8) & 0xff)] ^
          t[2304 + ((b >> 16) & 0xff)] ^ t[2048 + (b >> 24)] ^ t[1792 + (c & 0xff)] ^
          t[1536 + ((c >> 8) & 0xff)] ^ t[1280 + ((c >> 16) & 0xff)] ^ t[1024 + (c >> 24)] ^
          t[768 + (d & 0xff)] ^ t[512 + ((d >> 8) & 0xff)] ^ t[256 + ((d >> 16) & 0xff)] ^
          t[d >> 24];
    p += 16;
  }
  while (p < end) crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/*
 * Sixteen CRCs at once, one per lane, for the frames of sixteen lines: the
 * byte-wise update crc = T[(crc ^ byte) & 0xff] ^ (crc >> 8) with T split
 * by nibbles (T is linear: T[hi << 4 | lo] = T[hi << 4] ^ T[lo]) and each of
 * T's four bytes looked up with i8x16.swizzle, about half the instructions
 * of slice-by-16 per byte (wasm has no carry-less multiply). The crc lives
 * in four vectors, byte k of every lane's crc in vector k; each 16-byte
 * block of the sixteen payloads is transposed so that vector j holds byte j
 * of every payload.
 */
static v128_t nibble_table[8]; /* [k]: byte k of T[n]; [4 + k]: byte k of T[n << 4] */
static const u8 bit_reversed[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};

static void build_nibble_table(void) {
  u8 bytes[8][16];
  for (u32 n = 0; n < 16; n++)
    for (u32 k = 0; k < 4; k++) {
      bytes[k][n] = (u8)(crc_table[n] >> (8 * k));
      bytes[4 + k][n] = (u8)(crc_table[n << 4] >> (8 * k));
    }
  for (u32 k = 0; k < 8; k++) nibble_table[k] = wasm_v128_load(bytes[k]);
}

#define INTERLEAVE_LOW(a, b) \
  wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define INTERLEAVE_HIGH(a, b) \
  wasm_i8x16_shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)

/* The CRC32C of each of 16 payloads p[i][0, n[i]), into crcs[i]. */
static void crc32c_16(u8 *const p[16], const u32 n[16], u32 crcs[16]) {
  u32 shortest = n[0];
  for (u32 i = 1; i < 16; i++) shortest = n[i] < shortest ? n[i] : shortest;
  const v128_t low_nibble = wasm_i8x16_splat(0x0f);
  v128_t c0 = wasm_i8x16_splat(-1), c1 = c0, c2 = c0, c3 = c0;
  for (u32 at = 0; at + 16 <= shortest; at += 16) {
    /* Four rounds of interleaving transpose the block, with lanes and rows
     * in bit-reversed order: loading payload bit_reversed[i] as row i puts
     * payload L in lane L, and byte j of all in vector bit_reversed[j]. */
    v128_t v[16], w[16];
    for (u32 i = 0; i < 16; i++) v[i] = wasm_v128_load(p[bit_reversed[i]] + at);
    for (u32 round = 0; round < 4; round++) {
      for (u32 k = 0; k < 8; k++) {
        w[k] = INTERLEAVE_LOW(v[2 * k], v[2 * k + 1]);
        w[k + 8] = INTERLEAVE_HIGH(v[2 * k], v[2 * k + 1]);
      }
      for (u32 k = 0; k < 16; k++) v[k] = w[k];
    }
    for (u32 j = 0; j < 16; j++) {
      v128_t index = wasm_v128_xor(c0, v[bit_reversed[j]]);
      v128_t low = wasm_v128_and(index, low_nibble);
      v128_t high = wasm_u8x16_shr(index, 4);
      c0 = wasm_v128_xor(c1, wasm_v128_xor(wasm_i8x16_swizzle(nibble_table[0], low),
                                           wasm_i8x16_swizzle(nibble_table[4], high)));
      c1 = wasm_v128_xor(c2, wasm_v128_xor(wasm_i8x16_swizzle(nibble_table[1], low),
                                           wasm_i8x16_swizzle(nibble_table[5], high)));
      c2 = wasm_v128_xor(c3, wasm_v128_xor(wasm_i8x16_swizzle(nibble_table[2], low),
                                           wasm_i8x16_swizzle(nibble_table[6], high)));
      c3 = wasm_v128_xor(wasm_i8x16_swizzle(nibble_table[3], low),
                         wasm_i8x16_swizzle(nibble_table[7], high));
    }
  }
  u8 lanes[4][16];
  wasm_v128_store(lanes[0], c0);
  wasm_v128_store(lanes[1], c1);
  wasm_v128_store(lanes[2], c2);
  wasm_v128_store(lanes[3], c3);
  u32 done = shortest & ~15u;
  for (u32 i = 0; i < 16; i++) {
    u32 crc = lanes[0][i] | (u32)lanes[1][i] << 8 | (u32)lanes[2][i] << 16 | (u32)lanes[3][i] << 24;
    crcs[i] = crc32c(~crc, p[i] + done, n[i] - done);
  }
}

