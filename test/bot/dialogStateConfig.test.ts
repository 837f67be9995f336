import { ConversationState, MemoryStorage, TestAdapter, TurnContext } from 'botbuilder';
import type { Activity } from 'botbuilder';
import { Dialog, DialogSet, WaterfallDialog } from 'botbuilder-dialogs';
import { describe, expect, it } from 'vitest';
import { DIALOG_STATE_MANAGER_CONFIGURATION, dialogStateConfigBuilds, shareDialogStateConfig } from '../../src/bot/dialogs/dialogStateConfig.js';

const activity = { type: 'message', text: 'hello', channelId: 'test', conversation: { id: 'c1' }, from: { id: 'u1', name: 'User' }, recipient: { id: 'bot', name: 'Bot' } } as Partial<Activity>;

describe('shareDialogStateConfig', () => {
  it('gives every turn the same memory scopes, built once, and the scopes still read the turn', async () => {
    const state = new ConversationState(new MemoryStorage());
    const dialogs = new DialogSet(state.createProperty('dialogState'));
    dialogs.add(new WaterfallDialog('w', [async () => Dialog.EndOfTurn]));
    const seen = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const ctx = new TurnContext(new TestAdapter(), { ...activity, text: `turn ${i}` });
      shareDialogStateConfig(ctx);
      const dc = await dialogs.createContext(ctx);
      seen.add(dc.state.configuration);
      // The turn scope (set by the DialogContext itself) answers for this turn, not an earlier one.
      expect(dc.state.getValue('turn.activity.text')).toBe(`turn ${i}`);
      expect(dc.state.getValue('$missing', 'default')).toBe('default');
    }
    expect(seen.size).toBe(1);
    expect(dialogStateConfigBuilds).toBe(1);
    const names = [...seen][0] as { memoryScopes: Array<{ name: string }> };
    expect(names.memoryScopes.map((s) => s.name)).toEqual(expect.arrayContaining(['turn', 'dialog', 'conversation', 'user', 'settings']));
  });

  it('leaves a turn that brings its own scopes or configuration alone', () => {
    const own = new TurnContext(new TestAdapter(), { ...activity });
    own.turnState.set('memoryScopes', []);
    shareDialogStateConfig(own);
    expect(own.turnState.has(DIALOG_STATE_MANAGER_CONFIGURATION)).toBe(false);
    const preset = new TurnContext(new TestAdapter(), { ...activity });
    const mine = { memoryScopes: [], pathResolvers: [] };
    preset.turnState.set(DIALOG_STATE_MANAGER_CONFIGURATION, mine);
    shareDialogStateConfig(preset);
    expect(preset.turnState.get(DIALOG_STATE_MANAGER_CONFIGURATION)).toBe(mine);
  });
});
