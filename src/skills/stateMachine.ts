/**
 * Lifecycles written as tables (Temporal / pg-boss style): every (state, event) pair either has a
 * row — the next state and the side effect it starts — or is refused with a reason. The tables are
 * the single source for the guarded UPDATEs in the skills, for the docs and for the tests that walk
 * every pair.
 */
export interface Transition<S extends string, E extends string> {
  from: S;
  event: E;
  to: S;
  /** The side effect this transition starts (a job, an external call, a notification), if any. */
  effect?: string;
}

export type Decision<S extends string, E extends string> =
  | { ok: true; transition: Transition<S, E> }
  | { ok: false; reason: string };

export class StateMachine<S extends string, E extends string> {
  private readonly rows = new Map<string, Transition<S, E>>();

  constructor(
    readonly name: string,
    readonly states: readonly S[],
    readonly events: readonly E[],
    table: readonly Transition<S, E>[],
  ) {
    for (const row of table) {
      const key = `${row.from}\u0000${row.event}`;
      if (this.rows.has(key)) throw new Error(`${name}: two rows for ${row.from} × ${row.event}`);
      this.rows.set(key, row);
    }
  }

  /** The row for (state, event), or a refusal naming the pair. */
  decide(state: S, event: E): Decision<S, E> {
    const transition = this.rows.get(`${state}\u0000${event}`);
    return transition ? { ok: true, transition } : { ok: false, reason: `${this.name}: ${event} is not allowed when ${state}` };
  }

  /** The states an event may start from: the `WHERE status = ANY(...)` of a guarded UPDATE. */
  sourcesOf(event: E): S[] {
    return [...this.rows.values()].filter((r) => r.event === event).map((r) => r.from);
  }

  /** The row leading from `from` to `to` (callers that name the target state rather than the event). */
  rowTo(from: S, to: S): Transition<S, E> | undefined {
    const rows = [...this.rows.values()].filter((r) => r.from === from && r.to === to);
    return rows.length === 1 ? rows[0] : undefined;
  }

  get table(): Transition<S, E>[] {
    return [...this.rows.values()];
  }

  /** Every (state, event) pair, for tests that must cover all of them. */
  allPairs(): Array<[S, E]> {
    return this.states.flatMap((s) => this.events.map((e): [S, E] => [s, e]));
  }

  /** A markdown table of the rows, for the docs. */
  toMarkdown(): string {
    const lines = ['| from | event | to | side effect |', '|---|---|---|---|'];
    for (const r of this.rows.values()) lines.push(`| ${r.from} | ${r.event} | ${r.to} | ${r.effect ?? '—'} |`);
    return lines.join('\n');
  }
}
