/**
 * A seeded source of numbers in [0, 1) (xorshift32) for tests that draw
 * random inputs: print the seed, and the same seed replays the same draws.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** The seed of a test run: KEEPWIRE_TEST_SEED when set (to replay), else the clock's. */
export function testSeed(what: string): number {
  const seed = Number(process.env.KEEPWIRE_TEST_SEED ?? Date.now() % 1_000_000);
  console.log(`${what} seed: ${seed} (KEEPWIRE_TEST_SEED=${seed} replays it)`);
  return seed;
}
