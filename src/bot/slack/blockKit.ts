import type { Activity, Attachment, CardAction } from 'botbuilder';
import type { ActionsBlock, Button, ContextBlock, ImageBlock, KnownBlock, SectionBlock } from '@slack/web-api';

/**
 * Bot Framework message → Slack message: text as mrkdwn, Adaptive Cards as Block Kit, quick
 * replies as buttons. Azure Bot Service's Slack channel sends cards as images; here they become
 * real blocks, and the buttons come back to us as `block_actions` (see channel.ts).
 *
 *   TextBlock         → section (mrkdwn; Bolder → *bold*; subtle/small → context)
 *   FactSet           → section fields "*title*\nvalue" (10 per section)
 *   Image             → image
 *   Container, ColumnSet, Table, ActionSet → their contents, in order
 *   Action.Submit     → button, value = JSON of its `data` (≤ 2000 chars), action_id `submit:N`
 *   Action.OpenUrl    → link button
 *   suggestedActions  → buttons, value = the text to send back, action_id `imback:N`
 *
 * Slack's limits are applied (50 blocks, 3000 chars per section, 10 fields of 2000, 25 buttons
 * of 75 chars per actions block, 2000 chars per value); the message `text` is the plain fallback
 * (notifications, screen readers, clients without blocks).
 */

export const ADAPTIVE_CARD_TYPE = 'application/vnd.microsoft.card.adaptive';
export const SUBMIT_PREFIX = 'submit:';
export const IMBACK_PREFIX = 'imback:';
export const URL_PREFIX = 'url:';

const MAX_BLOCKS = 50;
const MAX_SECTION_TEXT = 3000;
const MAX_FIELD_TEXT = 2000;
const MAX_FIELDS = 10;
const MAX_BUTTONS = 25;
const MAX_BUTTON_TEXT = 75;
const MAX_VALUE = 2000;
const MAX_TEXT = 4000;

export interface SlackMessageContent {
  /** Plain fallback text (always set: Slack shows it in notifications). */
  text: string;
  blocks?: KnownBlock[];
  /** What could not be rendered (logged by the caller). */
  dropped: string[];
}

type Json = Record<string, unknown>;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Bot Framework / Adaptive Card markdown (`**bold**`, `[label](url)`) → Slack mrkdwn. */
export function toMrkdwn(text: string): string {
  return escapeMrkdwn(text)
    .replace(/\*\*([^*\n]+)\*\*/g, '*$1*')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, label: string, url: string) => `<${url.replace(/&amp;/g, '&')}|${label}>`);
}

const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

const section = (mrkdwn: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(mrkdwn, MAX_SECTION_TEXT) } });
const context = (mrkdwn: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(mrkdwn, MAX_SECTION_TEXT) }] });

/** Collects blocks, buttons and fallback lines while walking one message. */
class Renderer {
  readonly content: KnownBlock[] = [];
  readonly buttons: Button[] = [];
  readonly fallback: string[] = [];
  readonly dropped: string[] = [];
  private submitCount = 0;
  private urlCount = 0;
  private imBackCount = 0;

  text(value: string, style: 'plain' | 'bold' | 'subtle' = 'plain'): void {
    const trimmed = value.trim();
    if (!trimmed) return;
    this.fallback.push(trimmed);
    const mrkdwn = toMrkdwn(trimmed);
    if (style === 'subtle') this.content.push(context(mrkdwn));
    else this.content.push(section(style === 'bold' && !mrkdwn.includes('\n') ? `*${mrkdwn}*` : mrkdwn));
  }

  facts(facts: { title: string; value: string }[]): void {
    for (let i = 0; i < facts.length; i += MAX_FIELDS) {
      const fields = facts.slice(i, i + MAX_FIELDS).map((f) => ({
        type: 'mrkdwn' as const,
        text: truncate(f.title ? `*${toMrkdwn(f.title)}*\n${toMrkdwn(f.value) || ' '}` : toMrkdwn(f.value) || ' ', MAX_FIELD_TEXT),
      }));
      this.content.push({ type: 'section', fields });
    }
    for (const f of facts) this.fallback.push(f.title ? `${f.title}: ${f.value}` : f.value);
  }

  element(el: unknown): void {
    if (!el || typeof el !== 'object') return;
    const e = el as Json;
    if (e.isVisible === false) return;
    switch (e.type) {
      case 'TextBlock': {
        const text = str(e.text);
        if (!text) return;
        const subtle = e.isSubtle === true || e.size === 'Small' || e.size === 'small';
        this.text(text, e.weight === 'Bolder' || e.weight === 'bolder' ? 'bold' : subtle ? 'subtle' : 'plain');
        return;
      }
      case 'RichTextBlock': {
        const inlines = Array.isArray(e.inlines) ? e.inlines : [];
        const text = inlines.map((i) => (typeof i === 'string' ? i : str((i as Json)?.text) ?? '')).join('');
        this.text(text);
        return;
      }
      case 'FactSet': {
        const facts = (Array.isArray(e.facts) ? e.facts : [])
          .map((f) => ({ title: str((f as Json)?.title) ?? '', value: str((f as Json)?.value) ?? '' }))
          .filter((f) => f.title || f.value);
        if (facts.length > 0) this.facts(facts);
        return;
      }
      case 'Image': {
        const url = str(e.url);
        if (url && /^https:\/\//i.test(url)) {
          const image: ImageBlock = { type: 'image', image_url: url, alt_text: truncate(str(e.altText) ?? 'image', 2000) };
          this.content.push(image);
        } else this.dropped.push('Image without an https URL');
        return;
      }
      case 'Container':
        for (const item of Array.isArray(e.items) ? e.items : []) this.element(item);
        return;
      case 'ColumnSet':
        for (const column of Array.isArray(e.columns) ? e.columns : []) {
          for (const item of Array.isArray((column as Json)?.items) ? ((column as Json).items as unknown[]) : []) this.element(item);
        }
        return;
      case 'Table':
        for (const row of Array.isArray(e.rows) ? e.rows : []) {
          const cells = Array.isArray((row as Json)?.cells) ? ((row as Json).cells as Json[]) : [];
          const texts = cells.map((c) => textOf(c)).filter(Boolean);
          if (texts.length > 0) this.text(texts.join(' · '));
        }
        return;
      case 'ActionSet':
        for (const action of Array.isArray(e.actions) ? e.actions : []) this.action(action);
        return;
      default:
        this.dropped.push(`card element ${String(e.type)}`);
    }
  }

  action(a: unknown): void {
    if (!a || typeof a !== 'object') return;
    const action = a as Json;
    const title = truncate(str(action.title) ?? 'OK', MAX_BUTTON_TEXT);
    const style = action.style === 'positive' ? 'primary' : action.style === 'destructive' ? 'danger' : undefined;
    if (action.type === 'Action.Submit' || action.type === 'Action.Execute') {
      const data = action.data && typeof action.data === 'object' ? { ...(action.data as Json) } : {};
      if (action.type === 'Action.Execute' && str(action.verb) && data.verb === undefined) data.verb = action.verb;
      const value = JSON.stringify(data);
      if (value.length > MAX_VALUE) {
        this.dropped.push(`button "${title}": its data is over ${MAX_VALUE} characters`);
        return;
      }
      this.buttons.push({ type: 'button', action_id: `${SUBMIT_PREFIX}${this.submitCount++}`, text: { type: 'plain_text', text: title }, value, ...(style ? { style } : {}) });
    } else if (action.type === 'Action.OpenUrl' && str(action.url)) {
      this.buttons.push({ type: 'button', action_id: `${URL_PREFIX}${this.urlCount++}`, text: { type: 'plain_text', text: title }, url: truncate(action.url as string, 3000) });
    } else {
      this.dropped.push(`card action ${String(action.type)}`);
    }
  }

  suggested(action: CardAction): void {
    const title = truncate(action.title || String(action.value ?? ''), MAX_BUTTON_TEXT);
    if (action.type === 'openUrl' && typeof action.value === 'string') {
      this.buttons.push({ type: 'button', action_id: `${URL_PREFIX}${this.urlCount++}`, text: { type: 'plain_text', text: title }, url: action.value });
      return;
    }
    const value = typeof action.value === 'string' ? action.value : action.title;
    if (!value || value.length > MAX_VALUE) {
      this.dropped.push(`suggested action "${title}"`);
      return;
    }
    this.buttons.push({ type: 'button', action_id: `${IMBACK_PREFIX}${this.imBackCount++}`, text: { type: 'plain_text', text: title }, value });
  }

  /** The blocks within Slack's 50: content first (cut if needed), then the buttons. */
  blocks(): KnownBlock[] {
    const actions: ActionsBlock[] = [];
    for (let i = 0; i < this.buttons.length; i += MAX_BUTTONS) actions.push({ type: 'actions', elements: this.buttons.slice(i, i + MAX_BUTTONS) });
    const room = MAX_BLOCKS - actions.length;
    let content = this.content;
    if (content.length > room) {
      this.dropped.push(`${content.length - room + 1} blocks over Slack's limit of ${MAX_BLOCKS}`);
      content = [...content.slice(0, room - 1), context('…')];
    }
    return [...content, ...actions];
  }
}

function textOf(element: Json): string {
  if (element.type === 'TextBlock') return str(element.text) ?? '';
  const items = Array.isArray(element.items) ? (element.items as Json[]) : [];
  return items.map((i) => textOf(i)).filter(Boolean).join(' ');
}

/** An Adaptive Card's blocks and fallback text on their own (tests, previews). */
export function adaptiveCardToBlocks(card: unknown): { blocks: KnownBlock[]; text: string; dropped: string[] } {
  const r = new Renderer();
  renderCard(r, card);
  return { blocks: r.blocks(), text: r.fallback.join('\n'), dropped: r.dropped };
}

function renderCard(r: Renderer, card: unknown): void {
  if (!card || typeof card !== 'object') return;
  const c = card as Json;
  for (const el of Array.isArray(c.body) ? c.body : []) r.element(el);
  for (const action of Array.isArray(c.actions) ? c.actions : []) r.action(action);
}

const isCard = (a: Attachment): boolean => a.contentType === ADAPTIVE_CARD_TYPE;

/** A message activity as Slack message content (text + blocks). Non-card attachments are not handled here. */
export function renderForSlack(activity: Partial<Activity>): SlackMessageContent {
  const r = new Renderer();
  const text = (activity.text ?? '').trim();
  const cards = (activity.attachments ?? []).filter(isCard);
  const suggested = activity.suggestedActions?.actions ?? [];
  if (text) r.text(text);
  for (const card of cards) renderCard(r, card.content);
  for (const action of suggested) r.suggested(action);
  const fallback = truncate(r.fallback.join('\n') || ' ', MAX_TEXT);
  // A plain message needs no blocks: `text` is rendered as mrkdwn.
  if (cards.length === 0 && r.buttons.length === 0) return { text: text ? truncate(toMrkdwn(text), 40_000) : ' ', dropped: r.dropped };
  return { text: escapeMrkdwn(text || fallback), blocks: r.blocks(), dropped: r.dropped };
}

/** A clicked button, decoded from `block_actions`. */
export type ButtonClick =
  | { kind: 'submit'; data: Record<string, unknown> }
  | { kind: 'imBack'; text: string }
  | { kind: 'url' };

export function decodeButton(actionId: string | undefined, value: string | undefined): ButtonClick | undefined {
  if (!actionId) return undefined;
  if (actionId.startsWith(URL_PREFIX)) return { kind: 'url' };
  if (actionId.startsWith(IMBACK_PREFIX)) return value ? { kind: 'imBack', text: value } : undefined;
  if (actionId.startsWith(SUBMIT_PREFIX) && value) {
    try {
      const data = JSON.parse(value) as unknown;
      if (data && typeof data === 'object' && !Array.isArray(data)) return { kind: 'submit', data: data as Record<string, unknown> };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The clicked message after the click: its buttons removed (nobody clicks twice), a line saying
 * who chose what, and the outcome when there is one.
 */
export function settledBlocks(original: unknown, by: { userId: string; title: string }, outcome?: string): KnownBlock[] {
  const kept = (Array.isArray(original) ? (original as KnownBlock[]) : []).filter((b) => b && b.type !== 'actions');
  const extra: KnownBlock[] = [context(`<@${by.userId}> chose *${escapeMrkdwn(by.title)}*`)];
  if (outcome?.trim()) extra.push(section(toMrkdwn(outcome.trim())));
  return [...kept.slice(0, MAX_BLOCKS - extra.length), ...extra];
}
