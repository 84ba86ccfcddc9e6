#!/usr/bin/env node
/**
 * The `keepwire` command: finds the subcommand and runs it. No logic lives
 * here; each subcommand is one file in this folder.
 */
import { isKeepwireError } from '../errors.ts';
import type { CliIo, Command } from './command.ts';
import { serveCommand } from './serve.ts';

const COMMANDS: readonly Command[] = [serveCommand];

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
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`keepwire: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (isKeepwireError(error)) {
      io.stderr.write(`keepwire ${name}: ${error.message}\n`);
      return error.code === 'USAGE' ? 2 : 1;
    }
    io.stderr.write(`keepwire ${name}: unexpected error: ${(error as Error)?.stack ?? error}\n`);
    return 1;
  }
}

if (import.meta.main) {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
