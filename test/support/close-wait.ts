/** The `ss` lines of sockets in CLOSE-WAIT that process `pid` owns (none is the goal). */
import { execFileSync } from 'node:child_process';

export function closeWaitOwnedBy(pid: number): string[] {
  const out = execFileSync('ss', ['-tanpH', 'state', 'close-wait'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.split('\n').filter((line) => line.includes(`pid=${pid},`));
}
