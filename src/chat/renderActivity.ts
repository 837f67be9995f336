import type { WireActivity } from './connectorReceiver.js';

/** A choice the terminal user can pick by number: either text to send or a card's submit data. */
export interface Choice {
  title: string;
  text?: string;
  value?: unknown;
}

interface CardElement {
  type?: string;
  text?: string;
  facts?: { title?: string; value?: string }[];
  items?: CardElement[];
  columns?: { items?: CardElement[] }[];
  body?: CardElement[];
  actions?: CardAction[];
}

interface CardAction {
  type?: string;
  title?: string;
  data?: unknown;
  url?: string;
  card?: CardElement;
}

/** Renders a bot activity as terminal lines and collects its buttons as numbered choices. */
export function renderActivity(activity: WireActivity): { lines: string[]; choices: Choice[] } {
  const lines: string[] = [];
  const choices: Choice[] = [];
  if (activity.type === 'typing') return { lines, choices };
  if (activity.text) lines.push(...activity.text.split('\n'));
  for (const attachment of activity.attachments ?? []) {
    if (attachment.contentType === 'application/vnd.microsoft.card.adaptive') {
      renderCard(attachment.content as CardElement, lines, choices);
    } else {
      const name = (attachment as { name?: unknown }).name;
      lines.push(typeof name === 'string' ? `[file: ${name}]` : `[attachment: ${attachment.contentType}]`);
    }
  }
  for (const action of activity.suggestedActions?.actions ?? []) {
    const text = typeof action.value === 'string' ? action.value : (action.title ?? '');
    choices.push({ title: action.title ?? text, text });
  }
  return { lines, choices };
}

function renderCard(card: CardElement | undefined, lines: string[], choices: Choice[]): void {
  if (!card) return;
  const walk = (elements: CardElement[] | undefined) => {
    for (const el of elements ?? []) {
      if (el.type === 'TextBlock' && el.text) lines.push(el.text);
      if (el.type === 'FactSet') for (const f of el.facts ?? []) lines.push(`  ${f.title ?? ''}: ${f.value ?? ''}`);
      if (el.type === 'ActionSet') addActions(el.actions);
      walk(el.items);
      for (const column of el.columns ?? []) walk(column.items);
    }
  };
  const addActions = (actions: CardAction[] | undefined) => {
    for (const action of actions ?? []) {
      if (action.type === 'Action.Submit' || action.type === 'Action.Execute') {
        choices.push({ title: action.title ?? 'Submit', value: action.data ?? {} });
      } else if (action.type === 'Action.OpenUrl' && action.url) {
        lines.push(`  ${action.title ?? 'Link'}: ${action.url}`);
      }
    }
  };
  walk(card.body);
  addActions(card.actions);
}
