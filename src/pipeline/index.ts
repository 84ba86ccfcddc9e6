/** The ship plane's public face: what main.ts and the CLI use. */

export { PipelineMetrics } from './pipeline-metrics.ts';
export { createShipPlane } from './ship-plane.ts';
