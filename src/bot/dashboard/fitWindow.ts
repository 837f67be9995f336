import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';

/**
 * The dashboard's default window is the smallest of these that covers every trace the server has,
 * so a fresh server's few minutes of data fill the charts instead of sitting as dots at the right
 * edge of a 24-hour axis. Values are what `parseDuration` and the page's select accept.
 */
export const FIT_WINDOWS = [
  { name: '15m', ms: 15 * 60_000 },
  { name: '1h', ms: 60 * 60_000 },
  { name: '6h', ms: 6 * 60 * 60_000 },
  { name: '24h', ms: 24 * 60 * 60_000 },
  { name: '7d', ms: 7 * 24 * 60 * 60_000 },
  { name: '30d', ms: 30 * 24 * 60 * 60_000 },
] as const;

export type FitWindowName = (typeof FIT_WINDOWS)[number]['name'];

/** Smallest window that reaches back to `oldest` (the largest when none does; 15m with no data). */
export function fitWindow(oldest: Date | null, now: Date): FitWindowName {
  if (!oldest) return FIT_WINDOWS[0].name;
  const age = now.getTime() - oldest.getTime();
  return (FIT_WINDOWS.find((w) => w.ms >= age) ?? FIT_WINDOWS[FIT_WINDOWS.length - 1]!).name;
}

/** Start of the oldest trace the server holds (null when there is none). */
export async function oldestTurnAt(ds: DataSource): Promise<Date | null> {
  const { rows } = await execute<{ oldest: Date | string | null }>(ds, 'SELECT min(started_at) AS oldest FROM turn_traces');
  const value = rows[0]?.oldest;
  return value === null || value === undefined ? null : new Date(value);
}
