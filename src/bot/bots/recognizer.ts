/** What the bot needs from NLU; injected so tests can swap it (the NLU pipeline satisfies it). */
export interface BotRecognizer {
  recognize(text: string): Promise<{
    intent: string;
    confidence: number;
    entities: { type: string; value: unknown; text: string; start: number; end: number }[];
    /** Why the NLU fell back (e.g. `price_question`), when it did. */
    fallback?: { reason: string };
  }>;
}
