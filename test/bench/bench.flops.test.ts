import { describe, expect, it } from 'vitest';
import { archFromCard, sequenceFlops } from '../../bench/lib/flops.js';

describe('bench FLOPs model', () => {
  it('counts 24·d² per layer and token plus attention and the head', () => {
    const arch = { nLayer: 4, nEmbd: 256, labels: 16 };
    expect(sequenceFlops(arch, 10)).toBe(4 * (24 * 256 * 256 * 10 + 4 * 10 * 10 * 256) + 2 * 256 * 16 * 10);
  });

  it('an ensemble card runs every member: FLOPs scale with ensemble_members', () => {
    const single = archFromCard({ architecture: { n_layer: 4, n_embd: 256 } }, 16)!;
    const pair = archFromCard({ architecture: { n_layer: 4, n_embd: 256, ensemble_members: 2 } }, 16)!;
    expect(single.members).toBe(1);
    expect(pair.members).toBe(2);
    expect(sequenceFlops(pair, 12)).toBe(2 * sequenceFlops(single, 12));
    expect(archFromCard({ architecture: { n_layer: 'x' } }, 16)).toBeUndefined();
  });
});
