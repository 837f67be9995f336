/**
 * A hand-written pass over the rules of `inboundActivitySchema` (activitySchema.ts) for the common
 * case: `true` only when every field the schema names is present-and-right or absent, so the zod
 * parse (which builds a copy of the activity and runs a closure per field) can be skipped. Anything
 * it is not sure of — null, a class instance, a field it does not know how to judge — answers
 * `false`, and the zod schema decides and writes the 400's message as before. It must never accept
 * what the schema refuses (test/edge/activityFastCheck.test.ts compares them on mutated activities).
 */

import { isCleanId } from './cleanId.js';

type Rec = Record<string, unknown>;

const isPlain = (v: unknown): v is Rec => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

const id = (v: unknown, max: number): boolean =>
  typeof v === 'string' && v.length >= 1 && v.length <= max && isCleanId(v);
const optionalId = (v: unknown, max: number): boolean => v === undefined || id(v, max);
const shortText = (v: unknown, max: number): boolean => v === undefined || (typeof v === 'string' && v.length <= max);
const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

function account(v: unknown): boolean {
  return isPlain(v) && id(v.id, 512) && shortText(v.name, 512) && optionalId(v.aadObjectId, 128) && shortText(v.role, 64);
}

function arrayOf(v: unknown, max: number, item: (x: unknown) => boolean): boolean {
  if (v === undefined) return true;
  if (!Array.isArray(v) || v.length > max) return false;
  for (const x of v) if (!item(x)) return false;
  return true;
}

const attachment = (v: unknown): boolean =>
  isPlain(v) &&
  typeof v.contentType === 'string' &&
  v.contentType.length >= 1 &&
  v.contentType.length <= 256 &&
  optionalString(v.contentUrl) &&
  shortText(v.name, 1024) &&
  optionalString(v.thumbnailUrl);

const entity = (v: unknown): boolean => isPlain(v) && typeof v.type === 'string' && v.type.length >= 1 && v.type.length <= 128;

function channelData(v: unknown): boolean {
  if (v === undefined) return true;
  if (!isPlain(v)) return false;
  return v.tenant === undefined || (isPlain(v.tenant) && optionalId(v.tenant.id, 128));
}

/**
 * `serviceUrlOk` judges the serviceUrl (the schema's own URL rules, remembered per string by the
 * caller); everything else is checked here.
 */
export function passesActivityFastCheck(body: unknown, serviceUrlOk: (url: string) => boolean, maxText: number): boolean {
  if (!isPlain(body)) return false;
  const a = body;
  const c = a.conversation;
  return (
    id(a.type, 64) &&
    optionalId(a.id, 512) &&
    id(a.channelId, 128) &&
    typeof a.serviceUrl === 'string' &&
    serviceUrlOk(a.serviceUrl) &&
    isPlain(c) &&
    id(c.id, 1024) &&
    shortText(c.name, 512) &&
    shortText(c.conversationType, 64) &&
    (c.isGroup === undefined || typeof c.isGroup === 'boolean') &&
    optionalId(c.tenantId, 128) &&
    account(a.from) &&
    (a.recipient === undefined || account(a.recipient)) &&
    optionalId(a.replyToId, 512) &&
    shortText(a.text, maxText) &&
    shortText(a.textFormat, 32) &&
    shortText(a.name, 256) &&
    shortText(a.action, 64) &&
    shortText(a.deliveryMode, 64) &&
    shortText(a.timestamp, 64) &&
    shortText(a.localTimestamp, 64) &&
    shortText(a.locale, 64) &&
    arrayOf(a.attachments, 64, attachment) &&
    arrayOf(a.entities, 64, entity) &&
    arrayOf(a.membersAdded, 256, account) &&
    arrayOf(a.membersRemoved, 256, account) &&
    channelData(a.channelData)
  );
}
