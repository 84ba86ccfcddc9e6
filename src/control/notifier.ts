/**
 * Tells the dispatcher which targets got new commands. The in-process
 * notifier publishes right after the creating transaction commits; a
 * PostgreSQL notifier will publish what LISTEN receives from other nodes'
 * NOTIFY, through the same interface.
 */
export type TargetListener = (targetKeys: readonly string[]) => void;

export interface CommandNotifier {
  /** Called after a commit, with "agent:ID" / "component:NAME" keys. */
  publish(targetKeys: readonly string[]): void;
  subscribe(listener: TargetListener): () => void;
}

export class InProcessNotifier implements CommandNotifier {
  readonly #listeners = new Set<TargetListener>();

  publish(targetKeys: readonly string[]): void {
    if (targetKeys.length === 0) return;
    for (const listener of this.#listeners) listener(targetKeys);
  }

  subscribe(listener: TargetListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
