/**
 * syslog-ng in the foreground for the benchmarks: the configuration `conf`,
 * its persist file, control socket (`DIR/ctl`) and pid file under `dir`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export function spawnSyslogNg(dir: string, conf: string): ChildProcess {
  return spawn(
    'syslog-ng',
    [
      '-F',
      '-f',
      conf,
      '--persist-file',
      join(dir, 'persist'),
      '--control',
      join(dir, 'ctl'),
      '--pidfile',
      join(dir, 'pid'),
      '--no-caps',
    ],
    { stdio: 'ignore' },
  );
}
