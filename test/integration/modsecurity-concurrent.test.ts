/**
 * A real ModSecurity 3.0.9 (nginx + CRS) in concurrent mode (an index with
 * one line per transaction, each transaction in a file of its own), JSON
 * and Native: the index tailed by `keepwire serve` and shipped by `keepwire ship
 * --from modsecurity`, both into the `_bulk` test cluster
 * (test/support/modsecurity-to-opensearch.ts).
 */
import { test } from 'node:test';
import { modsecurityToOpensearch } from '../support/modsecurity-to-opensearch.ts';

for (const mode of ['json-concurrent', 'native-concurrent'] as const) {
  test(
    `ModSecurity ${mode}: serve tails it and ship backfills it into opensearch, every transaction once with its rules, client and status`,
    {
      timeout: 120_000,
    },
    () => modsecurityToOpensearch(mode),
  );
}
