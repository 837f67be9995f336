/**
 * Chat puts the request beside context the model never saw in training: "Any update on the paperwork
 * for SH-2003? Broker said it was stuck." The whole message can fall below the confidence bar while
 * its request, read alone, is clear. These are the message's sentences and clauses (split at sentence
 * ends, line breaks, semicolons, commas and spaced dashes), each with the offset where it starts; the pipeline re-reads
 * them only when the whole message was unsure, and only adopts a confident *read* (NluPipeline).
 */
export interface Clause {
  text: string;
  start: number;
}

/** Sentence ends need a space or the end after them: "PO-1102", "4.50" and "e.g." stay whole. */
const BOUNDARY = /[.!?]+(?=\s|$)|\s*\n+\s*|[;,]\s*|\s+[-–—]+\s+/g;
const WORDS = /[\p{L}\p{N}]+/gu;

export function splitClauses(text: string): Clause[] {
  const out: Clause[] = [];
  let last = 0;
  const push = (end: number): void => {
    const raw = text.slice(last, end);
    const lead = raw.length - raw.trimStart().length;
    const t = raw.trim();
    if ((t.match(WORDS) ?? []).length >= 2) out.push({ text: t, start: last + lead });
  };
  for (const m of text.matchAll(BOUNDARY)) {
    // keep a question mark with its sentence: "where is SH-2003?" reads as a question
    push(m.index + (m[0].startsWith('?') ? 1 : 0));
    last = m.index + m[0].length;
  }
  push(text.length);
  return out;
}
