#!/bin/sh
# Builds src/pipeline/sources/framer/framer.wasm from framer.c (see the top
# comment there), or the file named by $1. Needs clang and wasm-ld (Debian:
# clang, lld); the committed framer.wasm comes from clang 14, and
# framer-build.test.ts checks that a rebuild gives the same bytes.
set -eu
framer="$(cd "$(dirname "$0")/../src/pipeline/sources/framer" && pwd)"
out=${1:-$framer/framer.wasm}
exec clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -ffreestanding \
  -Wall -Wextra -Werror -Wl,--no-entry -Wl,--strip-all -o "$out" "$framer/framer.c"
