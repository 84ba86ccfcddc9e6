/**
 * The health of one endpoint, as Vector's endpoint health does it: healthy
 * until `failuresToSetAside` requests in a row fail (connection error,
 * timeout, a 5xx answer to the whole request); then set aside, and probed
 * (`GET /`) after a backoff that doubles per failed probe, up to a maximum.
 * A probe that gets any answer below 500 brings it back on probation: its
 * next request failing sets it aside again at once, with the backoff
 * doubled; its next success ends the probation and resets the backoff.
 * The clock is passed in; the timers are the caller's.
 */

export interface HealthPolicy {
  readonly failuresToSetAside: number;
  readonly initialProbeBackoffMs: number;
  readonly maxProbeBackoffMs: number;
}

export class EndpointHealth {
  readonly #policy: HealthPolicy;
  #failures = 0;
  #isSetAside = false;
  #isOnProbation = false;
  #backoffMs: number;
  #probeAt = 0;

  constructor(policy: HealthPolicy) {
    this.#policy = policy;
    this.#backoffMs = policy.initialProbeBackoffMs;
  }

  get isHealthy(): boolean {
    return !this.#isSetAside;
  }

  /** When a set-aside endpoint is to be probed (ms since the epoch). */
  get probeAt(): number {
    return this.#probeAt;
  }

  /** A request went through. Returns true when that ended a probation. */
  succeeded(): boolean {
    this.#failures = 0;
    if (!this.#isOnProbation) return false;
    this.#isOnProbation = false;
    this.#backoffMs = this.#policy.initialProbeBackoffMs;
    return true;
  }

  /** A request failed. Returns true when that set the endpoint aside. */
  failed(now: number): boolean {
    if (this.#isSetAside) return false;
    this.#failures += 1;
    if (!this.#isOnProbation && this.#failures < this.#policy.failuresToSetAside) return false;
    if (this.#isOnProbation) this.#grow();
    this.#setAside(now);
    return true;
  }

  /** The endpoint could not be reached at start: set aside at once, to be probed. */
  unreachable(now: number): void {
    if (!this.#isSetAside) this.#setAside(now);
  }

  probeSucceeded(): void {
    this.#isSetAside = false;
    this.#isOnProbation = true;
    this.#failures = 0;
  }

  probeFailed(now: number): void {
    this.#grow();
    this.#probeAt = now + this.#backoffMs;
  }

  #setAside(now: number): void {
    this.#isSetAside = true;
    this.#isOnProbation = false;
    this.#failures = 0;
    this.#probeAt = now + this.#backoffMs;
  }

  #grow(): void {
    this.#backoffMs = Math.min(this.#policy.maxProbeBackoffMs, this.#backoffMs * 2);
  }
}
