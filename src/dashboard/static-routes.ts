/**
 * The dashboard page on the admin listener: `/` and its assets under
 * `/dashboard/`, read into memory at start from the package's own files
 * (src/dashboard/public, or dist/dashboard/public once built). No asset comes
 * from another host, and the Content-Security-Policy says so to the browser.
 * The page itself is public; every API it calls needs the admin token.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const PUBLIC = new URL('./public/', import.meta.url);

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

export function registerStaticRoutes(app: FastifyInstance): void {
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS)) files.set(name, readFileSync(new URL(name, PUBLIC)));

  const send = (name: string) => (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .header('content-type', ASSETS[name]!)
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(files.get(name));

  app.get('/', send('index.html'));
  for (const name of Object.keys(ASSETS))
    if (name !== 'index.html') app.get(`/dashboard/${name}`, send(name));
}
