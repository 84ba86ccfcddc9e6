import { join } from 'node:path';
import { defaultDataDir } from '../config/data-dir.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, type Command, parseInteger, parseOptions } from './command.ts';

const HELP = `Usage: keepwire agent --server URL --token TOKEN [--mode long-poll|sse]
                      [--state-dir DIR] [--wait-s N]

The reference agent: connects to a keepwire agents listener, receives the
commands addressed to it and runs them. Built-in actions: ping,
sockets.snapshot, sockets.diagnose, sysctl.audit; any other action is
answered "failure" with the list it knows.

It keeps one pool of keep-alive connections with TCP keepalive, and
records every command id it runs in STATE_DIR/executed.jsonl (fsynced
before running), so a command delivered again after a crash or restart is
answered but never run twice. When the server is away it retries with
jittered exponential backoff. SIGTERM or SIGINT stops it cleanly.

Options:
  --server URL        the agents listener, e.g. http://127.0.0.1:8681
  --token TOKEN       the token "keepwire agents enroll" printed (or KEEPWIRE_AGENT_TOKEN)
  --mode MODE         long-poll (default) or sse
  --state-dir DIR     where the execution journal lives (default: DATA_DIR/agent,
                      the data dir serve would use: see keepwire serve --help)
  --wait-s N          long-poll wait in seconds (default 30, at most 1200)

Examples:
  keepwire agent --server http://127.0.0.1:8681 --token kw_... --state-dir /var/lib/kw-agent
  KEEPWIRE_AGENT_TOKEN=kw_... keepwire agent --server https://manager:8681 --mode sse
`;

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the reference agent: receive commands by long-poll or SSE and run them',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(
      args,
      {
        server: { type: 'string' },
        token: { type: 'string' },
        mode: { type: 'string' },
        'state-dir': { type: 'string' },
        'wait-s': { type: 'string' },
      },
      'agent',
    );
    const token = values.token ?? io.env.KEEPWIRE_AGENT_TOKEN;
    if (values.server === undefined)
      throw new UsageError(
        'agent needs --server URL (the agents listener, e.g. http://127.0.0.1:8681)',
      );
    if (!URL.canParse(values.server))
      throw new UsageError(
        `--server takes a URL such as http://127.0.0.1:8681, got "${values.server}"`,
      );
    if (token === undefined)
      throw new UsageError(
        'agent needs --token TOKEN (from "keepwire agents enroll") or KEEPWIRE_AGENT_TOKEN',
      );
    const mode = values.mode ?? 'long-poll';
    if (mode !== 'long-poll' && mode !== 'sse')
      throw new UsageError(`--mode is long-poll or sse, got "${mode}"`);
    const waitS = parseInteger(values['wait-s'], 'wait-s', { min: 1, max: 1200 }) ?? 30;
    // Loaded here, not at the top: `agent --help` loads no HTTP client.
    const [{ builtInActions }, { ExecutionJournal }, { ReferenceAgent, TokenRefusedError }] =
      await Promise.all([
        import('../control/agent/agent-actions.ts'),
        import('../control/agent/execution-journal.ts'),
        import('../control/agent/reference-agent.ts'),
      ]);
    const journal = new ExecutionJournal(
      values['state-dir'] ?? join(defaultDataDir({ env: io.env }), 'agent'),
    );
    const log = (message: string) =>
      io.stderr.write(`${new Date().toISOString()} keepwire agent: ${message}\n`);
    const agent = new ReferenceAgent({
      server: values.server,
      token,
      mode,
      journal,
      actions: builtInActions(),
      waitS,
      log,
    });
    const stop = (signal: string) => {
      log(`${signal}: stopping`);
      agent.stop().catch(() => {});
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    log(`connected mode ${mode} to ${values.server}`);
    try {
      await agent.run();
      await agent.stop();
      return 0;
    } catch (error) {
      await agent.stop();
      if (error instanceof TokenRefusedError) {
        log(`${error.message}; enrol again with "keepwire agents enroll" and pass the new --token`);
        return 1;
      }
      throw error;
    } finally {
      journal.close();
    }
  },
};
