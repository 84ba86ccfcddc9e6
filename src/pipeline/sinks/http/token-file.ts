/**
 * A bearer token kept in a file, re-read whenever the file's modification
 * time or size changes (checked with one stat per request), so operators
 * can rotate the token without a restart.
 */
import { readFile, stat } from 'node:fs/promises';
import { SinkUnavailableError } from '../../errors.ts';

export class TokenFile {
  readonly #path: string;
  #stamp = '';
  #header = '';

  constructor(path: string) {
    this.#path = path;
  }

  /** `Bearer <token>`, current as of this call. */
  async authorization(): Promise<string> {
    try {
      const info = await stat(this.#path);
      const stamp = `${info.mtimeMs}:${info.size}`;
      if (stamp !== this.#stamp) {
        const token = (await readFile(this.#path, 'utf8')).trim();
        if (token === '') throw new Error('the file is empty');
        this.#header = `Bearer ${token}`;
        this.#stamp = stamp;
      }
      return this.#header;
    } catch (error) {
      throw new SinkUnavailableError(
        `cannot read the bearer token file ${this.#path} (${(error as Error).message}); write the token into it or fix auth.tokenFile`,
        { cause: error },
      );
    }
  }
}
