#!/usr/bin/env node
/**
 * The `keepwire` command: finds the subcommand and runs it. No logic lives
 * here; each subcommand is one file in this folder. bin/keepwire.js, the
 * installed command, turns Node.js's compile cache on before it loads this.
 */
import type { CliIo, Command } from './command.ts';

/**
 * The command table. Each entry loads its module only when run, so a quick
 * command (`keepwire sockets`) never pays for fastify, pino or zod at start-up.
 * Add a command as `{ name, summary, load: async () => (await import('./x.ts')).xCommand }`.
 */
interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'run the relay (admin listener, watcher and the configured planes)',
    load: async () => (await import('./serve.ts')).serveCommand,
  },
  {
    name: 'ship',
    summary: 'ship NDJSON files or standard input once to an HTTP collector, durably',
    load: async () => (await import('./ship.ts')).shipCommand,
  },
  {
    name: 'sockets',
    summary: 'count TCP sockets by state, process or peer; "sockets diagnose" finds leaks',
    load: async () => (await import('./sockets.ts')).socketsCommand,
  },
  {
    name: 'sysctl',
    summary: 'audit the kernel TCP settings against this kernel version ("sysctl audit")',
    load: async () => (await import('./sysctl.ts')).sysctlCommand,
  },
  {
    name: 'agents',
    summary: 'enrol agents (prints their token once) and list them',
    load: async () => (await import('./agents.ts')).agentsCommand,
  },
  {
    name: 'commands',
    summary: 'create, list, follow and cancel commands for agents, groups and components',
    load: async () => (await import('./commands.ts')).commandsCommand,
  },
  {
    name: 'agent',
    summary: 'run the reference agent: receive commands by long-poll or SSE and run them',
    load: async () => (await import('./agent.ts')).agentCommand,
  },
  {
    name: 'init',
    summary: 'write an annotated configuration file with every section and its defaults',
    load: async () => (await import('./init.ts')).initCommand,
  },
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `keepwire: a relay for security telemetry that never leaks a socket

Usage: keepwire COMMAND [OPTIONS]

Commands:
${lines.join('\n')}

Run "keepwire COMMAND --help" for a command's options and examples.
`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr.write(`keepwire: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const command = await entry.load();
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    const { isKeepwireError } = await import('../errors.ts');
    if (isKeepwireError(error)) {
      io.stderr.write(`keepwire ${name}: ${error.message}\n`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    io.stderr.write(`keepwire ${name}: unexpected error: ${(error as Error)?.stack ?? error}\n`);
    return 1;
  }
}

/**
 * Runs the command line of this process (bin/keepwire.js, or this file run
 * directly). Output read by a reader that went away (`keepwire sockets |
 * head -1`) ends the command quietly with status 0, as for any Unix filter.
 */
export async function runProcess(): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  try {
    process.exitCode = await main(process.argv.slice(2), io);
  } catch (error) {
    process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
    process.exitCode = 1;
  }
}

if (import.meta.main) await runProcess();
