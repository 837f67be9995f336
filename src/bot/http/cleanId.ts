/**
 * Ids (conversation, user, activity, channel…) become database keys, lock keys and log fields. A
 * channel never sends control characters or broken UTF-16 in them; Postgres refuses NUL in text and
 * would turn a lone surrogate into U+FFFD (two ids, one key). Such an id is refused (400) before any
 * turn runs (issue 12, defect 9). One rule for the zod schema and the fast check.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const isCleanId = (s: string): boolean => !CONTROL.test(s) && !LONE_SURROGATE.test(s);
