/**
 * A `_bulk` test node (test/support/bulk) in a process of its own, for
 * bench/opensearch-sink.ts: the server's work then runs on the other core,
 * not on the event loop of the sink being measured. Sources are stored as
 * sent (not parsed). Prints `{"port": N}`, then answers one JSON line per
 * command line on standard input:
 *
 *   stats    {"documents", "accepted", "open", "maxOpen", "bulkRequests"}
 *   reset    empties the store and the counters
 *   restart  closes the listener and every socket, listens again on the same port
 */
import { createInterface } from 'node:readline';
import { BulkCluster, BulkNode } from '../test/support/bulk/index.ts';

const cluster = new BulkCluster({ parseSources: false });
const node = await new BulkNode(cluster, { plainIngestPath: '/_plain' }).start();
const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
reply({ port: node.port });

for await (const command of createInterface({ input: process.stdin })) {
  if (command === 'stats') {
    reply({
      documents: cluster.documentCount,
      accepted: node.accepted,
      open: node.open,
      maxOpen: node.maxOpen,
      bulkRequests: cluster.bulkRequests,
    });
  } else if (command === 'reset') {
    cluster.indices.clear();
    node.accepted = 0;
    node.maxOpen = node.open;
    cluster.bulkRequests = 0;
    reply({ ok: true });
  } else if (command === 'restart') {
    await node.restart();
    reply({ ok: true });
  } else {
    reply({ error: `unknown command ${command}` });
  }
}
await node.stop();
