import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';

/** Stage names used across the app. A stage nobody recorded is absent from the trace, not zero. */
export type StageName =
  | 'receive'
  | 'nlu'
  | 'queue_wait'
  | 'tokenize'
  | 'inference'
  | 'dialog'
  | 'skill'
  | 'send'
  | (string & {});

export interface TurnIds {
  conversationId?: string;
  channelId?: string;
  activityId?: string;
  userId?: string;
}

export type TurnOutcome = 'ok' | 'error' | 'rejected' | 'busy';

/** What one finished turn leaves behind; the trace writer persists exactly this. */
export interface TraceRecord extends TurnIds {
  turnId: string;
  startedAt: Date;
  totalMs: number;
  /** Stage name → milliseconds (summed if a stage ran more than once in the turn). */
  stages: Record<string, number>;
  intent?: string;
  confidence?: number;
  /** Extra facts, e.g. the inference batch size the request rode in. */
  attributes: Record<string, string | number | boolean>;
  outcome: TurnOutcome;
  error?: string;
}

/**
 * Collects the timings of one turn. Code deep in the call stack (NLU, skills) reaches the
 * current turn through `currentTrace()` instead of having a trace threaded through every call.
 */
export class TurnTrace {
  readonly turnId = randomUUID();
  readonly startedAt = new Date();
  private readonly t0 = performance.now();
  private readonly stages: Record<string, number> = {};
  private readonly attributes: Record<string, string | number | boolean> = {};
  private intent?: string;
  private confidence?: number;
  private error?: string;
  private outcome?: TurnOutcome;
  private finished?: TraceRecord;

  constructor(
    readonly ids: TurnIds,
    private readonly onEnd?: (record: TraceRecord) => void,
  ) {}

  /** Adds a duration measured elsewhere (e.g. a worker's inference time). */
  record(stage: StageName, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.stages[stage] = (this.stages[stage] ?? 0) + ms;
  }

  /** Times `fn` as `stage`; the duration is recorded even when `fn` throws. */
  async stage<T>(stage: StageName, fn: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.record(stage, performance.now() - start);
    }
  }

  setIntent(intent: string, confidence: number): void {
    this.intent = intent;
    this.confidence = confidence;
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.attributes[key] = value;
  }

  /** The outcome `end()` reports when not given one (e.g. `busy` when inference refused the turn). */
  setOutcome(outcome: TurnOutcome): void {
    this.outcome = outcome;
  }

  fail(err: unknown): void {
    this.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }

  get ended(): boolean {
    return this.finished !== undefined;
  }

  /** Finishes the turn once; later calls return the same record. */
  end(outcome?: TurnOutcome): TraceRecord {
    if (this.finished) return this.finished;
    this.finished = {
      ...this.ids,
      turnId: this.turnId,
      startedAt: this.startedAt,
      totalMs: performance.now() - this.t0,
      stages: { ...this.stages },
      intent: this.intent,
      confidence: this.confidence,
      attributes: { ...this.attributes },
      outcome: outcome ?? this.outcome ?? (this.error ? 'error' : 'ok'),
      error: this.error,
    };
    this.onEnd?.(this.finished);
    return this.finished;
  }
}

const storage = new AsyncLocalStorage<TurnTrace>();

/** Runs `fn` with `trace` as the current turn for everything it awaits. */
export function runWithTrace<T>(trace: TurnTrace, fn: () => T): T {
  return storage.run(trace, fn);
}

/** The turn being processed, if any (undefined outside a turn, e.g. in the CLI). */
export function currentTrace(): TurnTrace | undefined {
  return storage.getStore();
}
