/** `keepwire init`: writes the annotated default configuration. */
import { writeFileSync } from 'node:fs';
import { annotatedDefaults } from '../config/annotated-defaults.ts';
import { UsageError } from '../errors.ts';
import type { CliIo, Command } from './command.ts';
import { parseOptions } from './command.ts';

const HELP = `Usage: keepwire init [--output FILE] [--force]

Writes a configuration file with every section and every setting at its
default, each with a comment giving its type and bounds; settings that are
optional and have no default (tokens, TLS files, paths) are shown commented
out. The text is generated from the same schemas the loader validates with,
so it always matches this version. Edit what you need and delete the rest:
a key left out takes the same default.

Options:
  --output FILE   where to write (default: keepwire.yaml); "-" writes to
                  standard output
  --force         overwrite FILE if it exists (without it, an existing
                  file is left alone and init exits 2)

Examples:
  keepwire init                                  # ./keepwire.yaml
  keepwire init --output /etc/keepwire/keepwire.yaml
  keepwire init --output - | less
  keepwire serve --config keepwire.yaml          # run with it

Every setting can also come from the environment: KEEPWIRE_SECTION__KEY,
e.g. KEEPWIRE_WATCH__INTERVAL_MS=1000. See docs/configuration.md.
`;

export const initCommand: Command = {
  name: 'init',
  summary: 'write an annotated configuration file with every section and its defaults',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(
      args,
      { output: { type: 'string', short: 'o' }, force: { type: 'boolean' } },
      'init',
    );
    const text = annotatedDefaults();
    const output = values.output ?? 'keepwire.yaml';
    if (output === '-') {
      io.stdout.write(text);
      return 0;
    }
    try {
      writeFileSync(output, text, { flag: values.force ? 'w' : 'wx', mode: 0o640 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new UsageError(`${output} exists; use --force to overwrite it`);
      throw error;
    }
    io.stderr.write(`keepwire: wrote ${output}; run it with: keepwire serve --config ${output}\n`);
    return 0;
  },
};
