/**
 * Forward-pass FLOPs of a GPT-2 style sequence classifier (multiply-add = 2 FLOPs), from the
 * model card's architecture. Per layer and token: QKV 6d², attention output 2d², MLP 16d²
 * (24d² in all), plus attention scores and weighted sum 4·T·d over the T positions. The head
 * (d × labels) runs on every position in the HF export; embeddings are lookups (no FLOPs).
 */
export interface GptArch {
  nLayer: number;
  nEmbd: number;
  labels: number;
  /** Ensemble members in one graph (each runs the whole forward pass); 1 when absent. */
  members?: number;
}

export function sequenceFlops(arch: GptArch, tokens: number): number {
  const d = arch.nEmbd;
  const perLayer = 24 * d * d * tokens + 4 * tokens * tokens * d;
  return (arch.members ?? 1) * (arch.nLayer * perLayer + 2 * d * arch.labels * tokens);
}

/** Parameters read from a model card (`architecture.n_layer`, `n_embd`), or undefined. */
export function archFromCard(card: Record<string, unknown> | undefined, labels: number): GptArch | undefined {
  const a = (card?.architecture ?? card) as Record<string, unknown> | undefined;
  const nLayer = a?.n_layer;
  const nEmbd = a?.n_embd;
  if (typeof nLayer !== 'number' || typeof nEmbd !== 'number') return undefined;
  const members = typeof a?.ensemble_members === 'number' ? a.ensemble_members : 1;
  return { nLayer, nEmbd, labels, members };
}
