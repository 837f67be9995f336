import { z } from 'zod';
import { HttpError } from './httpErrors.js';

const MAX_TEXT = 16_000;

const account = z.object({ id: z.string().min(1).max(512), name: z.string().max(512).optional() }).passthrough();

/**
 * The fields the bot relies on. CloudAdapter throws outside its own error handler on some wrong
 * types (e.g. `{"type":5}`), so an activity is checked here before the SDK ever sees it.
 */
export const inboundActivitySchema = z
  .object({
    type: z.string().min(1).max(64),
    id: z.string().max(512).optional(),
    channelId: z.string().min(1).max(128),
    serviceUrl: z
      .string()
      .max(2048)
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'serviceUrl must be an http(s) URL'),
    conversation: z.object({ id: z.string().min(1).max(1024) }).passthrough(),
    from: account,
    recipient: account.optional(),
    text: z.string().max(MAX_TEXT, `text longer than ${MAX_TEXT} characters`).optional(),
    deliveryMode: z.string().max(64).optional(),
    timestamp: z.string().max(64).optional(),
    locale: z.string().max(64).optional(),
  })
  .passthrough();

export type InboundActivity = z.infer<typeof inboundActivitySchema>;

export function parseActivity(body: unknown): InboundActivity {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'invalid_activity', 'Request body must be a JSON object (a Bot Framework activity).');
  }
  const parsed = inboundActivitySchema.safeParse(body);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
    throw new HttpError(400, 'invalid_activity', `Invalid or missing activity fields: ${fields.join(', ')}.`);
  }
  return parsed.data;
}
