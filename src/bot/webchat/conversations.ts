/**
 * What the local web channel keeps about its Direct Line conversations, as an interface: the
 * channel (channel.ts), the stream (stream.ts) and the proactive sender (proactive.ts) depend on
 * this only. The implementation is in PostgreSQL/PGlite (databaseStore.ts), so every replica sees
 * the same conversations, tokens, activity log and files, and a restart keeps them.
 *
 * Everything is bounded: at most `maxConversations` (least recently active evicted first), each
 * forgotten after `idleTtlMs` without a request, each log keeping its last `maxActivities`
 * entries, uploads capped per request and in total.
 */

export interface WebchatLimits {
  maxConversations: number;
  idleTtlMs: number;
  maxActivities: number;
  /** Largest upload request (multipart body) in bytes. */
  maxUploadBytes: number;
  /** Uploaded bytes stored across all conversations. */
  maxStoredBytes: number;
}

export const DEFAULT_WEBCHAT_LIMITS: WebchatLimits = {
  maxConversations: 1000,
  idleTtlMs: 60 * 60_000,
  maxActivities: 500,
  maxUploadBytes: 4 * 1024 * 1024,
  maxStoredBytes: 64 * 1024 * 1024,
};

export type WireActivity = Record<string, unknown> & { id?: string; type?: string };

export interface WebchatUser {
  id: string;
  name?: string;
}

/** One conversation as a request sees it (a snapshot: the log and counters are read through the store). */
export interface WebchatConversation {
  readonly id: string;
  /** SHA-256 of the conversation token (the token itself is never stored). */
  readonly tokenHash: Buffer;
  readonly user: WebchatUser;
  /** Set by the Direct Line "start conversation" call (tokens/generate only reserves). */
  readonly started: boolean;
}

export interface StoredFile {
  id: string;
  conversationId: string;
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface ActivitySet {
  activities: WireActivity[];
  watermark: string;
}

/** What a Direct Line stream (WebSocket) hears about one conversation. */
export interface ConversationListener {
  /** Something may have been appended: read `since(lastWatermark)`. */
  appended(): void;
  /** The conversation was forgotten (idle, evicted): the stream should close. */
  ended(): void;
}

export interface DirectLineStore {
  /** A new conversation and its token (returned once; only its hash is kept). */
  create(user: WebchatUser): Promise<{ conversation: WebchatConversation; token: string }>;
  /** The conversation with this id, if it exists and has not expired (marks it active). */
  get(id: string): Promise<WebchatConversation | undefined>;
  /** The conversation a token belongs to (marks it active). */
  byBearer(token: string): Promise<WebchatConversation | undefined>;
  /** Constant-time check of a bearer token against the conversation's token. */
  tokenMatches(conversation: WebchatConversation, token: string): boolean;
  /** Marks the conversation started; true for the one call (of any replica) that did it. */
  claimStart(conversationId: string): Promise<boolean>;
  /** A new activity id in the Direct Line style, `<conversationId>|0000001`; undefined when the conversation is gone. */
  nextActivityId(conversationId: string): Promise<{ id: string; sequence: number } | undefined>;
  /**
   * Appends an activity; returns its watermark (undefined when the conversation is gone). A new
   * version of an earlier activity passes the earlier ids as `aliases`: `activity()` on any of them
   * then finds this version.
   */
  append(conversationId: string, activity: WireActivity, aliases?: string[]): Promise<number | undefined>;
  /** Activities after `watermark` (all when absent or unparsable), and the watermark to ask with next. */
  since(conversationId: string, watermark: string | null | undefined): Promise<ActivitySet | undefined>;
  /** The latest version of an activity still in the log, by any of its ids. */
  activity(conversationId: string, activityId: string): Promise<WireActivity | undefined>;
  /** Stores an upload; undefined when it would exceed the total budget. */
  addFile(conversation: WebchatConversation, file: Omit<StoredFile, 'id' | 'conversationId'>): Promise<StoredFile | undefined>;
  getFile(id: string): Promise<StoredFile | undefined>;
  /** Records a stream ticket's use: true the first time (across every replica), false after. */
  redeemTicket(signature: string, expiresAtMs: number): Promise<boolean>;
  /** Hears every append to (and the end of) one conversation, whichever replica appended. */
  subscribe(conversationId: string, listener: ConversationListener): () => void;
  /** Stops listening for other replicas' appends. */
  close(): Promise<void>;
}
