/**
 * The `Authorization` header of an HTTP-speaking sink: basic, bearer or
 * API key (`ApiKey <key>`, as Elasticsearch and OpenSearch take it). A
 * secret given inline gives a fixed header, built once; a secret in a file
 * is re-read when the file changes (SecretFile), so it rotates without a
 * restart.
 */
import type { AuthConfig } from './connection-schema.ts';
import { SecretFile } from './secret-file.ts';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export class Authorization {
  /** The header when it never changes (no auth: undefined, and `current` is not needed). */
  readonly fixed: string | undefined;
  readonly #file: SecretFile | undefined;

  constructor(auth: AuthConfig | undefined) {
    let fixed: string | undefined;
    let file: SecretFile | undefined;
    if (auth?.type === 'basic') {
      const { user } = auth;
      if (auth.password !== undefined) fixed = basic(user, auth.password);
      else file = new SecretFile(auth.passwordFile!, 'password', (secret) => basic(user, secret));
    } else if (auth?.type === 'bearer') {
      if (auth.token !== undefined) fixed = `Bearer ${auth.token}`;
      else file = new SecretFile(auth.tokenFile!, 'bearer token', (secret) => `Bearer ${secret}`);
    } else if (auth?.type === 'apiKey') {
      if (auth.key !== undefined) fixed = `ApiKey ${auth.key}`;
      else file = new SecretFile(auth.keyFile!, 'API key', (secret) => `ApiKey ${secret}`);
    }
    this.fixed = fixed;
    this.#file = file;
  }

  /** True when the header comes from a file and must be asked for per request. */
  get isRotating(): boolean {
    return this.#file !== undefined;
  }

  /** The header as of now; rejects with SinkUnavailableError when the secret file cannot be read. */
  async current(): Promise<string | undefined> {
    return this.#file ? this.#file.value() : this.fixed;
  }
}
