/**
 * Realistic ModSecurity v3 JSON audit records (about 1.5 KB each), modelled
 * on records captured from libmodsecurity 3.0.9 + CRS 3.3.4 (the test
 * fixtures under test/fixtures/modsecurity/): the same structure and field types
 * (`http_version` a number, every `details` value a string, `tags` arrays),
 * with varying clients, URIs, rules and unique ids. Deterministic (seeded).
 *
 *   node bench/modsecurity-records.ts COUNT > audit.ndjson
 */
import { createWriteStream } from 'node:fs';

const ATTACKS = [
  {
    uri: '/products?id=1%27%20OR%201=1--',
    message: 'SQL Injection Attack Detected via libinjection',
    ruleId: '942100',
    file: 'REQUEST-942-APPLICATION-ATTACK-SQLI.conf',
    data: "Matched Data: s&1c found within ARGS:id: 1' OR 1=1--",
    tag: 'attack-sqli',
  },
  {
    uri: '/search?q=%3Cscript%3Ealert(1)%3C/script%3E',
    message: 'XSS Attack Detected via libinjection',
    ruleId: '941100',
    file: 'REQUEST-941-APPLICATION-ATTACK-XSS.conf',
    data: 'Matched Data: XSS data found within ARGS:q: <script>alert(1)</script>',
    tag: 'attack-xss',
  },
  {
    uri: '/download?file=../../../../etc/passwd',
    message: 'Path Traversal Attack (/../)',
    ruleId: '930100',
    file: 'REQUEST-930-APPLICATION-ATTACK-LFI.conf',
    data: 'Matched Data: ../ found within ARGS:file: ../../../../etc/passwd',
    tag: 'attack-lfi',
  },
  {
    uri: '/ping?host=127.0.0.1;cat%20/etc/passwd',
    message: 'Remote Command Execution: Unix Command Injection',
    ruleId: '932100',
    file: 'REQUEST-932-APPLICATION-ATTACK-RCE.conf',
    data: 'Matched Data: ;cat /etc/passwd found within ARGS:host: 127.0.0.1;cat /etc/passwd',
    tag: 'attack-rce',
  },
];

const AGENTS = [
  'curl/7.88.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  'sqlmap/1.7.2#stable (https://sqlmap.org)',
  'Nikto/2.5.0',
];
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A small seeded PRNG (mulberry32): the same records, and test inputs, on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One record as a compact JSON line (no newline). */
export function makeRecord(index: number, random: () => number): string {
  const attack = ATTACKS[index % ATTACKS.length]!;
  const clientIp = `203.0.113.${1 + Math.floor(random() * 250)}`;
  const port = 1024 + Math.floor(random() * 60000);
  const second = String(index % 60).padStart(2, '0');
  const record = {
    transaction: {
      client_ip: clientIp,
      time_stamp: `${DAYS[index % 7]} Nov 23 04:39:${second} 2026`,
      server_id: '2ce124b0c5d02b433a9392782ff8b313286c1942',
      client_port: port,
      host_ip: '192.0.2.10',
      host_port: 443,
      unique_id: `1795408747${String(index).padStart(8, '0')}.${Math.floor(random() * 1e6)}`,
      request: {
        method: 'GET',
        http_version: 1.1,
        uri: attack.uri,
        headers: {
          Host: 'shop.example.com',
          'User-Agent': AGENTS[index % AGENTS.length],
          Accept: '*/*',
        },
      },
      response: {
        http_code: 403,
        headers: { Server: 'nginx/1.22.1', 'Content-Type': 'text/html', Connection: 'keep-alive' },
      },
      producer: {
        modsecurity: 'ModSecurity v3.0.9 (Linux)',
        connector: 'ModSecurity-nginx v1.0.3',
        secrules_engine: 'Enabled',
        components: ['OWASP_CRS/3.3.4"'],
      },
      messages: [
        {
          message: attack.message,
          details: {
            match: `detected ${attack.tag.slice(7).toUpperCase()} using libinjection.`,
            reference: 'v14,25t:urlDecodeUni',
            ruleId: attack.ruleId,
            file: `/usr/share/modsecurity-crs/rules/${attack.file}`,
            lineNumber: String(38 + (index % 400)),
            data: attack.data,
            severity: '2',
            ver: 'OWASP_CRS/3.3.4',
            rev: '',
            tags: [
              'application-multi',
              'language-multi',
              'platform-multi',
              attack.tag,
              'paranoia-level/1',
              'OWASP_CRS',
              'capec/1000/152/242',
            ],
            maturity: '0',
            accuracy: '0',
          },
        },
        {
          message: 'Inbound Anomaly Score Exceeded (Total Score: 5)',
          details: {
            match: "Matched \"Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE'",
            reference: '',
            ruleId: '949110',
            file: '/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf',
            lineNumber: '80',
            data: '',
            severity: '2',
            ver: 'OWASP_CRS/3.3.4',
            rev: '',
            tags: ['attack-generic'],
            maturity: '0',
            accuracy: '0',
          },
        },
      ],
    },
  };
  return JSON.stringify(record);
}

/** Writes `count` records, one per line, to `path`; resolves with the bytes written. */
export async function writeRecords(path: string, count: number, seed = 1): Promise<number> {
  const random = mulberry32(seed);
  const out = createWriteStream(path);
  let bytes = 0;
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += `${makeRecord(i, random)}\n`;
    if (chunk.length > 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.write(chunk);
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return bytes;
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 1000);
  const random = mulberry32(1);
  for (let i = 0; i < count; i++) process.stdout.write(`${makeRecord(i, random)}\n`);
}
