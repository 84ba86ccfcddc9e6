/**
 * Builds an opensearch sink service for tests from a partial configuration
 * (validated by the real schema), with a registry and a logger whose lines
 * the test can read.
 */
import { Writable } from 'node:stream';
import { createLogger, createRegistry, type Registry } from '../../../telemetry/index.ts';
import { opensearchSinkSchema } from './config.ts';
import { createOpensearchSinkService, type OpensearchService } from './index.ts';

export interface ServiceUnderTest {
  readonly service: OpensearchService;
  readonly registry: Registry;
  /** Log lines so far, parsed. */
  readonly logs: Array<Record<string, unknown> & { msg: string }>;
  /** A metric sample's value, matched by its labels (`endpoint="..."`, ...). */
  metric(name: string, ...labels: string[]): Promise<number>;
}

export function openSearchService(
  config: Record<string, unknown>,
  options: { concurrency?: number; now?: () => number } = {},
): ServiceUnderTest {
  const registry = createRegistry({ processMetrics: false });
  const logs: ServiceUnderTest['logs'] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const service = createOpensearchSinkService(
    opensearchSinkSchema.parse({ type: 'opensearch', ...config }),
    {
      name: 'os',
      concurrency: options.concurrency ?? 2,
      registry,
      logger: createLogger({ level: 'debug' }, destination),
      now: options.now,
    },
  );
  return {
    service,
    registry,
    logs,
    async metric(name, ...labels) {
      const text = await registry.metrics();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`)) continue;
        if (labels.every((label) => line.includes(label)))
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
  };
}

/** Polls `check` every 10 ms until it holds, or fails after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
