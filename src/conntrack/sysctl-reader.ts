/** Reads the audited settings from /proc/sys and the running kernel's release. */
import { readFile } from 'node:fs/promises';
import { release } from 'node:os';
import {
  AUDITED_SYSCTLS,
  auditSysctlValues,
  type SysctlAudit,
  type SysctlValues,
} from './sysctl-audit.ts';

export async function readSysctlValues(procRoot = '/proc'): Promise<SysctlValues> {
  const entries = await Promise.all(
    AUDITED_SYSCTLS.map(async (name) => {
      const path = `${procRoot}/sys/${name.replaceAll('.', '/')}`;
      try {
        return [name, await readFile(path, 'utf8')] as const;
      } catch {
        return [name, undefined] as const;
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** The `keepwire sysctl audit --json` object for this host. */
export async function auditSysctl(options: { procRoot?: string } = {}): Promise<SysctlAudit> {
  return auditSysctlValues(release(), await readSysctlValues(options.procRoot));
}
