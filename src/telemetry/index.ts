export { createLogger, type Logger } from './logger.ts';
export {
  type Counter,
  createRegistry,
  type Gauge,
  type Histogram,
  type Registry,
} from './metrics.ts';
