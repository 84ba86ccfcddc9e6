/**
 * A `_bulk` test cluster of one or more nodes sharing one store, on
 * 127.0.0.1 ports of their own (see bulk-cluster.ts and bulk-node.ts).
 */
import { BulkCluster } from './bulk-cluster.ts';
import { BulkNode, type BulkNodeOptions } from './bulk-node.ts';

export { BulkCluster, type ItemFaults } from './bulk-cluster.ts';
export { BulkNode, type BulkNodeOptions, type WholeAnswer } from './bulk-node.ts';

export interface RunningCluster {
  readonly cluster: BulkCluster;
  readonly nodes: BulkNode[];
  readonly urls: string[];
  close(): Promise<void>;
}

export async function startBulkCluster(
  options: {
    readonly nodes?: number;
    readonly flavor?: 'opensearch' | 'elasticsearch';
    readonly node?: BulkNodeOptions;
  } = {},
): Promise<RunningCluster> {
  const cluster = new BulkCluster({ flavor: options.flavor });
  const nodes: BulkNode[] = [];
  for (let index = 0; index < (options.nodes ?? 1); index += 1) {
    nodes.push(await new BulkNode(cluster, { ...options.node, name: `node-${index + 1}` }).start());
  }
  return {
    cluster,
    nodes,
    urls: nodes.map((node) => node.url),
    close: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
