/**
 * A secret kept in a file (a bearer token, a password, an API key), re-read
 * whenever the file's modification time or size changes (checked with one
 * stat per request), so operators can rotate it without a restart. The
 * value is turned into what the request needs (an `Authorization` header)
 * once per change, not once per request.
 */
import { readFile, stat } from 'node:fs/promises';
import { SinkUnavailableError } from '../errors.ts';

export class SecretFile {
  readonly #path: string;
  /** What the file holds, for the error message: "bearer token", "password"... */
  readonly #what: string;
  readonly #format: (secret: string) => string;
  #stamp = '';
  #value = '';

  constructor(path: string, what: string, format: (secret: string) => string) {
    this.#path = path;
    this.#what = what;
    this.#format = format;
  }

  /** The formatted secret, current as of this call. */
  async value(): Promise<string> {
    try {
      const info = await stat(this.#path);
      const stamp = `${info.mtimeMs}:${info.size}`;
      if (stamp !== this.#stamp) {
        const secret = (await readFile(this.#path, 'utf8')).trim();
        if (secret === '') throw new Error('the file is empty');
        this.#value = this.#format(secret);
        this.#stamp = stamp;
      }
      return this.#value;
    } catch (error) {
      throw new SinkUnavailableError(
        `cannot read the ${this.#what} file ${this.#path} (${(error as Error).message}); write the ${this.#what} into it or fix the sink's auth settings`,
        { cause: error },
      );
    }
  }
}
