import { ConversationState, type TurnContext } from 'botbuilder';

interface CachedState {
  state: Record<string, unknown>;
  hash: string;
}

/**
 * ConversationState whose change check is a plain JSON string instead of the SDK's
 * `calculateChangeHash` (a JSON.stringify with a replacer called on every key, then SHA-256),
 * which BotState runs three times a turn: after the load, before the save and after it. Here the
 * load takes one string, the save compares one more and keeps it as the new baseline. Same rules
 * otherwise: the cached `{ state, hash }` slot of BotState (so get / clear / delete keep working),
 * the eTag is not part of the comparison, an unchanged state is not written, `force` always is.
 */
export class LeanConversationState extends ConversationState {
  override load(context: TurnContext, force = false): Promise<Record<string, unknown>> {
    const cached = context.turnState.get(this.slot()) as CachedState | undefined;
    if (!force && cached?.state) return Promise.resolve(cached.state);
    return Promise.resolve(this.storageKey(context)).then(async (key) => {
      const items = await this.storage.read([key]);
      const state = (items[key] as Record<string, unknown> | undefined) ?? {};
      context.turnState.set(this.slot(), { state, hash: changeHash(state) } satisfies CachedState);
      return state;
    });
  }

  override saveChanges(context: TurnContext, force = false): Promise<void> {
    let cached = context.turnState.get(this.slot()) as CachedState | undefined;
    const hash = cached ? changeHash(cached.state) : '';
    if (!force && (!cached || cached.hash === hash)) return Promise.resolve();
    return Promise.resolve(this.storageKey(context)).then(async (key) => {
      cached ??= { state: {}, hash: '' };
      cached.state.eTag = '*';
      await this.storage.write({ [key]: cached.state });
      // What was just written (the eTag aside, which the hash leaves out) is the new baseline.
      cached.hash = hash || changeHash(cached.state);
      context.turnState.set(this.slot(), cached);
    });
  }

  /** BotState's private per-turn cache key (a Symbol made in its constructor). */
  private slot(): symbol {
    return (this as unknown as { stateKey: symbol }).stateKey;
  }
}

/** The state as stored, without its eTag: equal strings mean nothing to save. */
export function changeHash(state: Record<string, unknown>): string {
  const { eTag: _eTag, ...rest } = state;
  return JSON.stringify(rest);
}
