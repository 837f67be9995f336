import * as chrono from 'chrono-node';
import { B_END, B_START, PRIORITY, makeEntity, type Candidate } from './candidate.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local calendar date as YYYY-MM-DD. */
export function isoDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const PAST = /\b(last|ago|yesterday|previous|past|earlier|before)\b/i;
/** Times written as bare numbers ("at 5", "from 5 to 10") are mostly quantities or prices in this domain. */
const BARE_TIME = /^(?:at|from|by|around|@|until|till)?\s*\d{1,2}(?:\s*(?:to|-|and)\s*\d{1,2})?$/i;
/** Weekday abbreviations that are also English words; accepted only capitalized. */
const WORDY = new Set(['sun', 'sat', 'wed', 'mar', 'may']);
const NOISE = new Set(['now', 'right now']);
/**
 * Greetings that chrono reads as a time: "Good morning" (→ this/tomorrow morning), "Happy Friday",
 * "Morning all,". They say nothing about the request; the date it gives comes later in the text.
 */
const GREETING_BEFORE = /\b(?:good|happy|gm|nice|lovely)\s*$/i;
const PART_OF_DAY = /^(?:this\s+)?(?:morning|afternoon|evening|night|day|mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?$/i;
const OPENING_PART_OF_DAY = /^\s*(?:morning|afternoon|evening)\b(?=\s*(?:[,!.:;-]|all\b|team\b|everyone\b|folks\b|guys\b|y'?all\b))/i;

/** True when chrono's match is a greeting ("Good morning", "Happy Monday", "Morning all,"), not a date. */
function isGreeting(text: string, index: number, matched: string): boolean {
  const m = matched.trim();
  if (!PART_OF_DAY.test(m)) return false;
  if (GREETING_BEFORE.test(text.slice(0, index))) return true;
  return text.slice(0, index).trim() === '' && OPENING_PART_OF_DAY.test(text.slice(index));
}

const EOD = new RegExp(`${B_START}(?:eod|cob|eob|end\\s+of\\s+(?:the\\s+)?(?:business\\s+)?day|close\\s+of\\s+business)${B_END}`, 'giu');
const END_OF_WEEK = new RegExp(`${B_START}end\\s+of\\s+(?:the\\s+|this\\s+)?week${B_END}`, 'giu');
const ORDINAL_DAY = new RegExp(`${B_START}the\\s+(\\d{1,2})(?:st|nd|rd|th)${B_END}(?!\\s+(?:of\\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))`, 'giu');

/**
 * Dates via chrono-node, resolved against `now`: future-leaning ("Friday" = the coming Friday,
 * "March 12" = the next March 12) unless the phrase says past ("last Thursday", "2 days ago").
 * Value: `YYYY-MM-DD` for a day, a UTC ISO timestamp when a time of day was given.
 */
export function extractDates(text: string, now: Date): Candidate[] {
  const out: Candidate[] = [];
  const forward = chrono.parse(text, now, { forwardDate: true });
  // Only past phrases need the second, backward-looking parse.
  const plain = forward.some((f) => PAST.test(f.text)) ? chrono.parse(text, now) : [];
  for (const f of forward) {
    const r = PAST.test(f.text) ? (plain.find((p) => p.index === f.index && p.text === f.text) ?? f) : f;
    const trimmed = r.text.trim();
    if (BARE_TIME.test(trimmed) || NOISE.has(trimmed.toLowerCase())) continue;
    if (isGreeting(text, r.index, r.text)) continue;
    if (WORDY.has(trimmed.toLowerCase()) && trimmed[0] === trimmed[0]!.toLowerCase()) continue;
    const date = r.start.date();
    const year = date.getFullYear();
    if (!Number.isFinite(date.getTime()) || year < 1970 || year > 2100) continue;
    const value = r.start.isCertain('hour') ? date.toISOString() : isoDate(date);
    out.push({ entity: makeEntity(text, r.index, r.index + r.text.length, 'date', value), priority: PRIORITY.date });
  }

  // Phrases chrono does not know (or reads oddly), ranked above chrono's partial readings.
  const custom = (m: RegExpMatchArray, value: string): void => {
    out.push({ entity: makeEntity(text, m.index!, m.index! + m[0].length, 'date', value), priority: PRIORITY.date + 1 });
  };
  for (const m of text.matchAll(EOD)) custom(m, isoDate(now));
  for (const m of text.matchAll(END_OF_WEEK)) {
    const d = new Date(now);
    const toFriday = (5 - d.getDay() + 7) % 7;
    // On the weekend "end of the week" has passed; keep today rather than jumping a week ahead.
    d.setDate(d.getDate() + (d.getDay() === 6 || d.getDay() === 0 ? 0 : toFriday));
    custom(m, isoDate(d));
  }
  for (const m of text.matchAll(ORDINAL_DAY)) {
    const day = Number(m[1]);
    if (day < 1 || day > 31) continue;
    const d = new Date(now.getFullYear(), now.getMonth(), day);
    // The next such day: this month if still ahead (or today), else next month(s) that have it.
    if (d.getDate() !== day || day < now.getDate()) {
      let month = now.getMonth() + 1;
      for (;;) {
        const c = new Date(now.getFullYear(), month, day);
        if (c.getDate() === day) {
          custom(m, isoDate(c));
          break;
        }
        month++;
      }
    } else custom(m, isoDate(d));
  }
  return out;
}
