import { z } from 'zod';
import { cleanText } from '../../db/text.js';
import { passesActivityFastCheck } from './activityFastCheck.js';
import { isCleanId } from './cleanId.js';
import { HttpError } from './httpErrors.js';

const MAX_TEXT = 16_000;
/** Deeper JSON than this in an activity (`value`, `channelData`…) is refused; cards submit flat data. */
const MAX_DEPTH = 64;

const id = (max: number) => z.string().min(1).max(max).refine(isCleanId, 'must not contain control characters or invalid UTF-16');
const optionalId = (max: number) => id(max).optional();
const shortText = (max: number) => z.string().max(max).optional();

const account = z
  .object({ id: id(512), name: shortText(512), aadObjectId: optionalId(128), role: shortText(64) })
  .passthrough();

const attachment = z
  .object({
    contentType: z.string().min(1).max(256),
    contentUrl: z.string().optional(),
    name: shortText(1024),
    thumbnailUrl: z.string().optional(),
    content: z.unknown().optional(),
  })
  .passthrough();

const entity = z.object({ type: z.string().min(1).max(128) }).passthrough();

const serviceUrlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'serviceUrl must be an http(s) URL')
  .refine(isCleanId, 'must not contain control characters');

/**
 * Every activity field the bot's code (src/bot/**, the skills) or botbuilder reads, with its type,
 * so a malformed activity is a 400 here and never a TypeError inside a turn (issue 13, item 4).
 * Unknown fields pass through untouched. Read by: adapter/ActivityHandler (type, membersAdded,
 * deliveryMode), teams/mentions.ts (conversation.conversationType/isGroup, entities, membersAdded,
 * membersRemoved, recipient, action, value), files/inbound.ts (attachments), cards (value,
 * replyToId), proactive/conversationReferences.ts (ids, from.name, locale, serviceUrl).
 */
export const inboundActivitySchema = z
  .object({
    type: id(64),
    id: optionalId(512),
    channelId: id(128),
    serviceUrl: serviceUrlSchema,
    conversation: z
      .object({
        id: id(1024),
        name: shortText(512),
        conversationType: shortText(64),
        isGroup: z.boolean().optional(),
        tenantId: optionalId(128),
      })
      .passthrough(),
    from: account,
    recipient: account.optional(),
    replyToId: optionalId(512),
    text: z.string().max(MAX_TEXT, `text longer than ${MAX_TEXT} characters`).optional(),
    textFormat: shortText(32),
    name: shortText(256),
    action: shortText(64),
    deliveryMode: shortText(64),
    timestamp: shortText(64),
    localTimestamp: shortText(64),
    locale: shortText(64),
    attachments: z.array(attachment).max(64).optional(),
    entities: z.array(entity).max(64).optional(),
    membersAdded: z.array(account).max(256).optional(),
    membersRemoved: z.array(account).max(256).optional(),
    channelData: z
      .object({ tenant: z.object({ id: optionalId(128) }).passthrough().optional() })
      .passthrough()
      .optional(),
    value: z.unknown().optional(),
  })
  .passthrough();

export type InboundActivity = z.infer<typeof inboundActivitySchema>;

export function parseActivity(body: unknown): InboundActivity {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_activity', 'Request body must be a JSON object (a Bot Framework activity).');
  }
  // The usual activity passes a hand-written check of the same rules; the schema judges the rest.
  if (passesActivityFastCheck(body, serviceUrlAccepted, MAX_TEXT)) return storableStrings(body, 0) as InboundActivity;
  const parsed = inboundActivitySchema.safeParse(body);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
    throw new HttpError(400, 'invalid_activity', `Invalid or missing activity fields: ${fields.join(', ')}.`);
  }
  return storableStrings(parsed.data, 0) as InboundActivity;
}

/** serviceUrls the schema accepted: a channel uses a handful, so each is parsed as a URL once. */
const acceptedServiceUrls = new Set<string>();
const MAX_ACCEPTED_SERVICE_URLS = 256;

function serviceUrlAccepted(url: string): boolean {
  if (acceptedServiceUrls.has(url)) return true;
  if (!serviceUrlSchema.safeParse(url).success) return false;
  if (acceptedServiceUrls.size >= MAX_ACCEPTED_SERVICE_URLS) acceptedServiceUrls.clear();
  acceptedServiceUrls.add(url);
  return true;
}

/**
 * Free text anywhere else in the activity (text, names, card values…) is kept but made storable:
 * NUL removed, lone surrogates → U+FFFD (src/db/text.ts), so a slot value or a name can never make
 * a query fail. Ids were checked above and are unchanged by this. Buffers (native Slack files) and
 * other non-plain objects are left as they are.
 */
function storableStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) throw new HttpError(400, 'invalid_activity', `Activity is nested deeper than ${MAX_DEPTH} levels.`);
  if (Array.isArray(value)) return value.map((v) => storableStrings(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // JSON.parse makes "__proto__" an own key; assigned back it would set the prototype instead.
    if (k !== '__proto__') out[cleanText(k)] = storableStrings(v, depth + 1);
  }
  return out;
}
