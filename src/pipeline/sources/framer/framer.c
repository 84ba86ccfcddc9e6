/*
 * The framing worker's hot loop (frame-thread.ts) in WebAssembly: splits a
 * chunk of NDJSON into lines, checks each line, and lays the valid ones out
 * as disk-buffer frames `u32le length | u32le crc32c(payload) | payload`, in
 * one call per chunk. It does exactly what LineSplitter (line-splitter.ts) +
 * isJsonObject (json-object-check.ts) or isObjectShaped
 * (object-shape-check.ts) + encodeFrames (record-frame.ts) do in JS, which
 * stay the reference: wasm-framer.test.ts compares the two byte for byte.
 *
 * Build (scripts/build-wasm.sh; framer-build.test.ts checks that the
 * committed framer.wasm is what this file compiles to):
 *
 *   clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding
 *     -Wall -Wextra -Werror -Wl,--no-entry -Wl,--strip-all -o framer.wasm framer.c
 *
 * (clang 14 and wasm-ld, Debian packages clang and lld; another clang
 * version gives other, equally valid, bytes.) --strip-all leaves no names
 * or paths in the output, so the build is byte for byte repeatable.
 *
 * Freestanding: no libc. -mbulk-memory turns memcpy/memmove/memset into
 * memory.copy/memory.fill; the exports are named with export_name. One
 * translation unit: the checks and the CRC are in headers included below
 * (json-check.h, shape-check.h, crc32c.h), so everything inlines.
 *
 * Memory, from __heap_base up (the caller re-reads `memory.buffer` after any
 * call, since a call may grow it):
 *
 *   input   [carry | chunk | padding]: the unfinished last line of earlier
 *           chunks (at most maxLineBytes: a longer one is reported and
 *           discarded up to its newline, as LineSplitter does), then the
 *           chunk the caller copies in at the pointer reserve() returns.
 *           INPUT_PADDING bytes past the data are always there, so 16-byte
 *           vector loads and the check's end sentinel never leave memory.
 *   rejects one u32 per refused line of the last call: (line << 1) | reason
 *           (0 too_large, 1 invalid), the line counted from the call's
 *           first line (the caller adds the lines before it). Sized for the
 *           worst case (a reject needs two input bytes: one byte and a
 *           newline), so it never grows during a call.
 *   output  the frames of the last call, to the end of memory: grown with
 *           memory.grow while framing, copied out by the caller after.
 *
 * Per line: find its newline (16 bytes a step), check it, copy it into its
 * frame. CRCs are written sixteen frames at a time (crc32c_16, in SIMD
 * lanes), the rest one by one (slice-by-16), before the call returns.
 *
 * The checks read one byte past the line (the JS reads `undefined` there):
 * take() writes a 0 sentinel at the line's end (over its CR or newline,
 * already seen), a byte no JSON position accepts, so the JSON check needs
 * no bounds checks.
 */
#include <wasm_simd128.h>

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long usize;
typedef unsigned long long u64;

#define EXPORT(name) __attribute__((export_name(#name))) export_##name

#define PAGE_BYTES 65536u
#define INPUT_PADDING 64u
#define REJECT_TOO_LARGE 0u
#define REJECT_INVALID 1u
#define FAILED 0xffffffffu

extern u8 __heap_base;

#include "crc32c.h"
#include "json-check.h"
#include "shape-check.h"

static int has_table;

static u32 max_line_bytes;
static int is_shape_check;
static int is_discarding;

static u8 *input;
static u32 input_capacity; /* bytes, padding excluded */
static u32 carry;
static u32 *rejects;
static u32 reject_count;
static u8 *output;
static u32 output_capacity;
static u32 output_bytes;
static u32 events;
static u32 lines;

/* ---- memory ---- */

static u64 memory_end(void) { return (u64)__builtin_wasm_memory_size(0) * PAGE_BYTES; }

/* Grows memory so it reaches at least `end`; 0 when it cannot (4 GiB at most). */
static int reach(u64 end) {
  u64 have = memory_end();
  if (end <= have) return 1;
  if (end > 0x100000000ull) return 0;
  usize pages = (usize)((end - have + PAGE_BYTES - 1) / PAGE_BYTES);
  return __builtin_wasm_memory_grow(0, pages) != (usize)-1;
}

/* Room for `bytes` more frame bytes: output doubles as it grows (or gets just enough). */
static int ensure_output(u32 bytes) {
  if (output_capacity - output_bytes >= bytes) return 1;
  u64 need = (u64)output_bytes + bytes;
  u64 want = need < 2 * (u64)output_capacity ? 2 * (u64)output_capacity : need;
  if (!reach((usize)output + want) && !reach((usize)output + need)) return 0;
  u64 capacity = memory_end() - (usize)output;
  output_capacity = capacity > 0xffffffffull ? 0xffffffffu : (u32)capacity;
  return 1;
}

/* ---- splitting and framing: LineSplitter ---- */

static void reject(u32 reason, u32 line) { rejects[reject_count++] = line << 1 | reason; }

/* Frames whose CRC is not written yet: sixteen at a time are cheaper (crc32c_16). */
static u32 pending[16];
static u32 pending_count;

/* Writes the CRCs of the pending frames: together when there are sixteen, else one by one. */
static void write_crcs(void) {
  u8 *payload[16];
  u32 bytes[16], crcs[16];
  for (u32 i = 0; i < pending_count; i++) {
    payload[i] = output + pending[i] + 8;
    __builtin_memcpy(&bytes[i], output + pending[i], 4);
  }
  if (pending_count == 16) crc32c_16(payload, bytes, crcs);
  else
    for (u32 i = 0; i < pending_count; i++) crcs[i] = crc32c(0, payload[i], bytes[i]);
  for (u32 i = 0; i < pending_count; i++) __builtin_memcpy(output + pending[i] + 4, &crcs[i], 4);
  pending_count = 0;
}

/* One line p[start, end) (its newline, if any, at end), line number `line` of this call. */
static int take(u32 start, u32 end, u32 line) {
  u8 *p = input + start;
  u32 n = end - start;
  if (n > 0 && p[n - 1] == '\r') n--;
  if (n == 0) return 1;
  if (n > max_line_bytes) {
    reject(REJECT_TOO_LARGE, line);
    return 1;
  }
  p[n] = 0; /* the sentinel: over the CR or newline already seen */
  if (!(is_shape_check ? is_object_shaped(p, n) : is_json_object(p, n))) {
    reject(REJECT_INVALID, line);
    return 1;
  }
  if (!ensure_output(8 + n)) return 0;
  u8 *frame = output + output_bytes;
  __builtin_memcpy(frame, &n, 4);
  __builtin_memcpy(frame + 8, p, n);
  pending[pending_count++] = output_bytes;
  output_bytes += 8 + n;
  events++;
  if (pending_count == 16) write_crcs();
  return 1;
}

static u32 find_newline(const u8 *p, u32 i, u32 n) {
  const v128_t newline = wasm_i8x16_splat('\n');
  for (; i + 16 <= n; i += 16) {
    u32 bits = (u32)wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p + i), newline));
    if (bits) return i + __builtin_ctz(bits);
  }
  while (i < n && p[i] != '\n') i++;
  return i;
}

static void start_call(void) {
  pending_count = 0;
  output_bytes = 0;
  events = 0;
  reject_count = 0;
  lines = 0;
}

/* Starts afresh: a new input, lines counted from 1. */
void EXPORT(configure)(u32 max_line, u32 shape_only) {
  if (!has_table) {
    build_table();
    has_table = 1;
  }
  max_line_bytes = max_line;
  is_shape_check = shape_only != 0;
  is_discarding = 0;
  carry = 0;
  start_call();
}

/*
 * Room for a chunk of `bytes` after the carried line; returns where to copy
 * it (0 when memory cannot grow). Moves the rejects and output regions when
 * the input region grows (they hold nothing between calls).
 */
u8 *EXPORT(reserve)(u32 bytes) {
  u64 need = (u64)carry + bytes;
  if (need > 0x7fff0000u) return 0;
  if (!input || need > input_capacity) {
    u32 capacity = (u32)((need + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES);
    if (capacity == 0) capacity = PAGE_BYTES;
    usize base = ((usize)&__heap_base + 15) & ~(usize)15;
    /* capacity / 2 + 16 rejects at most (see the top comment), 4 bytes each */
    usize reject_base = base + capacity + INPUT_PADDING;
    usize output_base = reject_base + (capacity / 2 + 16) * 4;
    if (!reach((u64)output_base + PAGE_BYTES)) return 0;
    input = (u8 *)base;
    input_capacity = capacity;
    rejects = (u32 *)reject_base;
    output = (u8 *)output_base;
    output_capacity = (u32)(memory_end() - output_base);
  }
  return input + carry;
}

/* Frames the lines that the `bytes` copied in at reserve() complete; FAILED when out of memory. */
u32 EXPORT(push)(u32 bytes) {
  start_call();
  u32 total = carry + bytes;
  u32 start = 0;
  /* The carried bytes hold no newline: look from the chunk on. */
  for (u32 at = carry;; at = start) {
    u32 end = find_newline(input, at, total);
    if (end == total) break;
    lines++;
    if (is_discarding) is_discarding = 0;
    else if (!take(start, end, lines)) return FAILED;
    start = end + 1;
  }
  u32 rest = total - start;
  if (is_discarding) {
    carry = 0;
  } else if (rest > max_line_bytes) {
    /* only when this chunk added to it: a carried line is never above the limit */
    reject(REJECT_TOO_LARGE, lines + 1);
    is_discarding = 1;
    carry = 0;
  } else {
    if (start > 0) __builtin_memmove(input, input + start, rest);
    carry = rest;
  }
  write_crcs();
  return events;
}

/* The end of one input: frames its last line if it had no newline, then starts afresh. */
u32 EXPORT(finish)(void) {
  start_call();
  if (carry > 0 && !is_discarding) {
    lines = 1;
    if (!take(0, carry, 1)) return FAILED;
    write_crcs();
  }
  is_discarding = 0;
  carry = 0;
  return events;
}

u8 *EXPORT(frames)(void) { return output; }
u32 EXPORT(frame_bytes)(void) { return output_bytes; }
u32 *EXPORT(rejected)(void) { return rejects; }
u32 EXPORT(reject_count)(void) { return reject_count; }
u32 EXPORT(line_count)(void) { return lines; }

/* The parts alone, for tests: on bytes copied in at reserve(n) (which leaves room for the sentinel). */
u32 EXPORT(check_json)(u8 *p, u32 n) {
  p[n] = 0;
  return (u32)is_json_object(p, n);
}
u32 EXPORT(check_shape)(u8 *p, u32 n) {
  p[n] = 0;
  return (u32)is_object_shaped(p, n);
}
u32 EXPORT(crc32c)(u32 previous, const u8 *p, u32 n) { return crc32c(previous, p, n); }
