/**
 * A real ModSecurity 3.0.9 (nginx + CRS) writing a serial audit log, JSON
 * and Native, tailed by `keepwire serve` and shipped by `keepwire ship
 * --from modsecurity`, both into the `_bulk` test cluster
 * (test/support/modsecurity-to-opensearch.ts).
 */
import { test } from 'node:test';
import { modsecurityToOpensearch } from '../support/modsecurity-to-opensearch.ts';

for (const mode of ['json-serial', 'native-serial'] as const) {
  test(
    `ModSecurity ${mode}: serve tails it and ship backfills it into opensearch, every transaction once with its rules, client and status`,
    {
      timeout: 120_000,
    },
    () => modsecurityToOpensearch(mode),
  );
}
