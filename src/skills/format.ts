/** Small formatting helpers shared by skill replies (plain text, channel-neutral). */

export function money(amount: number, currency = 'USD'): string {
  const n = amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  if (currency === 'USD') return `$${n}`;
  if (currency === 'EUR') return `€${n}`;
  return `${n} ${currency}`;
}

export function quantity(amount: number, unit?: string | null): string {
  const n = amount.toLocaleString('en-US', { maximumFractionDigits: 3 });
  if (!unit) return n;
  return `${n} ${amount === 1 ? unit : plural(unit)}`;
}

export function plural(unit: string): string {
  if (/(s|x|ch|sh)$/.test(unit)) return `${unit}es`;
  if (/[^aeiou]y$/.test(unit)) return `${unit.slice(0, -1)}ies`;
  return `${unit}s`;
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function ago(d: Date, now: Date = new Date()): string {
  const s = Math.max(0, Math.round((now.getTime() - d.getTime()) / 1000));
  if (s < 45) return 'just now';
  if (s < 90) return '1 min ago';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const days = Math.round(h / 24);
  return days === 1 ? 'yesterday' : `${days} days ago`;
}

/** "a, b and c". */
export function listing(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
