import { UsageError } from '../errors.ts';
import type { serve } from '../main.ts';
import { type CliIo, type Command, parseOptions } from './command.ts';

const HELP = `Usage: keepwire serve [--config FILE] [--data-dir DIR] [--admin HOST:PORT]
                      [--agents HOST:PORT] [--socket PATH] [--events HOST:PORT]

Runs the relay: the admin listener (/healthz, /metrics, the management API)
and every plane the configuration enables. Without a configuration file it
runs the embedded default. State (tokens, addresses) goes under the data dir.

Options:
  --config FILE       YAML configuration (see docs/configuration.md)
  --data-dir DIR      where state lives (default: $KEEPWIRE_DATA_DIR, else
                      /var/lib/keepwire when writable or creatable, else
                      $XDG_STATE_HOME/keepwire or ~/.local/state/keepwire;
                      var/ in the project checkout)
  --admin HOST:PORT   admin listener (default: 127.0.0.1:8680); port 0 picks
                      a free port, written to DATA_DIR/admin.addr
  --agents HOST:PORT  agents listener for long-poll, SSE and results
                      (default: 127.0.0.1:8681); port 0 picks a free port,
                      written to DATA_DIR/agents.addr
  --socket PATH       Unix socket for the management API and components
                      (default: DATA_DIR/keepwire.sock, mode 0660)
  --events HOST:PORT  event intake: the http source named "events"
                      (default: 127.0.0.1:8682; POST /v1/events, NDJSON);
                      port 0 picks a free port, written to DATA_DIR/events.addr

Environment: KEEPWIRE_SECTION__KEY=value overrides a setting, e.g.
  KEEPWIRE_WATCH__INTERVAL_MS=1000 keepwire serve
(KEEPWIRE_TOKEN, KEEPWIRE_AGENT_TOKEN and the CLI's other variables are
not settings and are ignored here; see docs/configuration.md)

Stops in order on SIGINT or SIGTERM: listeners, buffers, sinks, stores.
`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the relay (admin listener, watcher and the configured planes)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(
      args,
      {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        admin: { type: 'string' },
        agents: { type: 'string' },
        socket: { type: 'string' },
        events: { type: 'string' },
      },
      'serve',
    );
    // Loaded here, not at the top: `serve --help` loads no zod, fastify or pino.
    const [{ loadConfig, parseListen }, { withEventsListen }, main] = await Promise.all([
      import('../config/index.ts'),
      import('../config/pipeline.ts'),
      import('../main.ts'),
    ]);
    const events = values.events === undefined ? undefined : parseListen(values.events);
    if (values.events !== undefined && !events) {
      throw new UsageError(
        `--events takes HOST:PORT (e.g. 127.0.0.1:8682), got "${values.events}"`,
      );
    }
    const loaded = loadConfig({
      file: values.config,
      env: io.env,
      overrides: {
        dataDir: values['data-dir'],
        'admin.listen': values.admin,
        'agents.listen': values.agents,
        'socket.path': values.socket,
      },
    });
    const config = events ? withEventsListen(loaded, events) : loaded;
    // Listening before serve() writes DATA_DIR/admin.addr: a script that
    // signals as soon as the file appears must not meet the default action
    // (termination without the ordered shutdown). A signal during start-up
    // is kept and acted on once everything is up.
    let signals = 0;
    let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
    let early: NodeJS.Signals | undefined;
    const stop = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        process.stderr.write(
          `keepwire: second signal (${signal}): exiting without finishing shutdown\n`,
        );
        process.exit(1);
      }
      if (onSignal) onSignal(signal);
      else early = signal;
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    let runtime: Awaited<ReturnType<typeof serve>>;
    try {
      runtime = await main.serve(config);
    } catch (error) {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      throw error;
    }
    if (runtime.generatedAdminToken) {
      // The token itself never goes to the logs (journald, container logs keep
      // them): only its file. An operator at a terminal sees it once.
      runtime.logger.info(
        { tokenFile: runtime.adminTokenPath },
        'generated an admin token; read it from its file (mode 0600)',
      );
      if (io.stderr.isTTY) {
        io.stderr.write(
          `keepwire: generated an admin token (shown once; kept in ${runtime.adminTokenPath}, mode 0600):\n` +
            `  ${runtime.generatedAdminToken}\n`,
        );
      }
    }
    return new Promise<number>((resolve) => {
      onSignal = (signal) => {
        runtime.lifecycle.shutdown(signal).then(() => resolve(0));
      };
      if (early) onSignal(early);
    });
  },
};
