import { TurnContextStateCollection, type TurnContext } from 'botbuilder';
import { DialogStateManager, type DialogContext, type DialogStateManagerConfiguration } from 'botbuilder-dialogs';

/** The turnState key under which DialogStateManager looks for (and caches) its configuration. */
export const DIALOG_STATE_MANAGER_CONFIGURATION = 'DialogStateManagerConfiguration';

let shared: DialogStateManagerConfiguration | undefined;

/** How many times the shared configuration was built in this process (tests). */
export let dialogStateConfigBuilds = 0;

/**
 * Every turn's first DialogContext builds the memory scopes and path resolvers anew (a
 * ServiceCollection, a zod parse and nine scope objects), then caches them for that turn only. They
 * hold no per-turn data (each reads the DialogContext it is given), so one set built by the SDK's own
 * code serves every turn. Not used when the turn brings scopes or resolvers of its own.
 */
export function shareDialogStateConfig(context: TurnContext): void {
  const turnState = context.turnState;
  if (turnState.has(DIALOG_STATE_MANAGER_CONFIGURATION) || turnState.has('memoryScopes') || turnState.has('pathResolvers')) return;
  if (!shared) {
    shared = new DialogStateManager({ context: { turnState: new TurnContextStateCollection() } } as unknown as DialogContext).configuration;
    dialogStateConfigBuilds += 1;
  }
  turnState.set(DIALOG_STATE_MANAGER_CONFIGURATION, shared);
}
