/**
 * A `_bulk` test node (test/support/bulk) in a process of its own, for
 * bench/opensearch-sink.ts and bench/modsecurity-vs-syslog-ng.ts: the
 * server's work then runs on the other core, not on the event loop of the
 * client being measured. It speaks the whole `_bulk` protocol (every action
 * line parsed, one item answered per action, `filter_path` honoured) but
 * neither parses nor keeps the sources (`keepSources: false`): only each
 * document's index, `_id` and version, so the node costs every client the
 * same few microseconds per document instead of most of a core (it decoded
 * and held every body: 30 µs of CPU per 4 KB document, measured). Prints
 * `{"port": N}`, then answers one JSON line per command line on standard
 * input:
 *
 *   stats    {"documents", "accepted", "open", "maxOpen", "bulkRequests"}
 *   reset    empties the store and the counters
 *   restart  closes the listener and every socket, listens again on the same port
 */
import { createInterface } from 'node:readline';
import { BulkCluster, BulkNode } from '../test/support/bulk/index.ts';

const cluster = new BulkCluster({ keepSources: false });
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
