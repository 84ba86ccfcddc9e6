/**
 * The normalized event a ModSecurity audit record becomes: ECS fields where
 * ECS has one, the rest under `modsecurity`. Plain data, serialisable with
 * JSON.stringify; absent values are left out rather than set to null.
 * docs/formats/modsecurity.md maps every field to its place in the input.
 */

/** One rule match (a JSON `messages[]` item, a native `H` line). */
export interface ModsecurityMessage {
  message?: string;
  rule_id?: string;
  severity?: string;
  data?: string;
  match?: string;
  tags?: string[];
  file?: string;
  line?: string;
  reference?: string;
  ver?: string;
  rev?: string;
  maturity?: string;
  accuracy?: string;
}

export interface ModsecurityEvent {
  '@timestamp'?: string;
  event: {
    id?: string;
    module: 'modsecurity';
    dataset: 'modsecurity.audit';
    /** The most severe (lowest) rule severity, 0 (emergency) to 7 (debug). */
    severity?: number;
    /** The record as it was read, unchanged. */
    original: string;
  };
  source?: { ip?: string; port?: number };
  destination?: { ip?: string; port?: number };
  http?: {
    version?: string;
    request?: { method?: string; body?: { content: string } };
    response?: { status_code?: number; body?: { content: string } };
  };
  url?: { original: string; path: string; query?: string };
  user_agent?: { original: string };
  host?: { name: string };
  rule?: { id: string[] };
  tags?: string[];
  modsecurity: {
    format: 'json' | 'native';
    producer?: string;
    connector?: string;
    components?: string[];
    engine_mode?: string;
    server_id?: string;
    is_interrupted?: boolean;
    request_headers?: Record<string, string>;
    response_headers?: Record<string, string>;
    messages: ModsecurityMessage[];
  };
}

/** Options of the decoder; the defaults fit a log read on the host that wrote it. */
export interface ModsecurityDecodeOptions {
  /**
   * The zone of time stamps written without an offset (ModSecurity 3's JSON
   * `time_stamp`, `%c`): `local` is this host's zone (the TZ variable), `utc`
   * takes them as UTC. Stamps with an offset (native section `A`) ignore it.
   */
  readonly localTimeZone?: 'local' | 'utc';
}
