import { runWithTrace, TurnTrace, type TraceRecord, type TurnIds } from './turnTrace.js';
import type { TraceSink } from './traceWriter.js';
import { silentLog, type Log } from '../db/log.js';

/**
 * Creates TurnTraces whose finished records go to a sink (the TraceWriter). Handing a record over
 * never throws into the turn: a failing sink is logged and the turn carries on.
 */
export class Tracer {
  private readonly log: Log;

  constructor(
    private readonly sink: TraceSink,
    options: { logger?: Log } = {},
  ) {
    this.log = options.logger ?? silentLog;
  }

  /** A new trace for one turn; `trace.end()` hands its record to the sink. `ids` may be filled in later. */
  startTurn(ids: TurnIds = {}): TurnTrace {
    return new TurnTrace(ids, (record) => this.deliver(record));
  }

  /**
   * Runs `fn` as one traced turn: current for everything it awaits (`currentTrace()`), ended with
   * `ok`, or with `error` (and the error recorded) if `fn` throws; the error is rethrown.
   */
  async run<T>(ids: TurnIds, fn: (trace: TurnTrace) => Promise<T> | T): Promise<T> {
    const trace = this.startTurn(ids);
    try {
      const result = await runWithTrace(trace, () => fn(trace));
      trace.end();
      return result;
    } catch (err) {
      trace.fail(err);
      trace.end('error');
      throw err;
    }
  }

  private deliver(record: TraceRecord): void {
    try {
      this.sink.enqueue(record);
    } catch (err) {
      this.log.error({ err, turnId: record.turnId }, 'trace sink failed');
    }
  }
}
