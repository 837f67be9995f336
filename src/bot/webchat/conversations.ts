import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * In-memory state of the local web channel: conversations, their per-conversation tokens, the
 * activity log a polling client reads with a watermark, and uploaded files.
 *
 * Everything here is bounded and lives only as long as the process: at most `maxConversations`
 * (least recently active evicted first), each forgotten after `idleTtlMs` without a request, each
 * log keeping its last `maxActivities` entries, uploads capped per request and in total. A
 * restart ends every web chat conversation (the page starts a new one on reload).
 */

export interface WebchatLimits {
  maxConversations: number;
  idleTtlMs: number;
  maxActivities: number;
  /** Largest upload request (multipart body) in bytes. */
  maxUploadBytes: number;
  /** Uploaded bytes held in memory across all conversations. */
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

export interface StoredFile {
  id: string;
  conversationId: string;
  name: string;
  contentType: string;
  bytes: Buffer;
}

interface LogEntry {
  watermark: number;
  activity: WireActivity;
  /** Older ids of this activity (a card update gets a new id; the bot may still name an old one). */
  aliases: string[];
}

/** What a Direct Line stream (WebSocket) hears about one conversation. */
export interface ConversationListener {
  /** Something was appended: read `since(lastWatermark)`. */
  appended(): void;
  /** The conversation was forgotten (idle, evicted): the stream should close. */
  ended(): void;
}

/**
 * The conversation store the channel depends on: small on purpose, so that it can move to
 * PostgreSQL (LISTEN/NOTIFY for `subscribe`) when the server scales out.
 */
export interface DirectLineStore {
  readonly size: number;
  create(user: WebchatUser): { conversation: WebchatConversation; token: string };
  get(id: string): WebchatConversation | undefined;
  byBearer(token: string): WebchatConversation | undefined;
  tokenMatches(conversation: WebchatConversation, token: string): boolean;
  addFile(conversation: WebchatConversation, file: Omit<StoredFile, 'id' | 'conversationId'>): StoredFile | undefined;
  getFile(id: string): StoredFile | undefined;
}

export class WebchatConversation {
  readonly createdAt = Date.now();
  lastActiveAt = Date.now();
  /** Set by the Direct Line "start conversation" call (tokens/generate only reserves). */
  started = false;
  private readonly log: LogEntry[] = [];
  private watermark = 0;
  private sequence = 0;
  /** Latest version of each activity by any of its ids (for updates), bounded with the log. */
  private readonly byId = new Map<string, WireActivity>();
  private readonly listeners = new Set<ConversationListener>();
  readonly files = new Set<string>();

  constructor(
    readonly id: string,
    readonly tokenHash: Buffer,
    readonly user: WebchatUser,
    private readonly maxActivities: number,
  ) {}

  /** A new activity id in the Direct Line style: `<conversationId>|0000001`. */
  nextActivityId(): { id: string; sequence: number } {
    this.sequence += 1;
    return { id: `${this.id}|${String(this.sequence).padStart(7, '0')}`, sequence: this.sequence };
  }

  /**
   * Appends an activity and returns its watermark. A new version of an earlier activity passes the
   * earlier ids as `aliases`: `get()` on any of them then finds this version.
   */
  append(activity: WireActivity, aliases: string[] = []): number {
    this.watermark += 1;
    this.log.push({ watermark: this.watermark, activity, aliases });
    for (const id of [activity.id, ...aliases]) if (id) this.byId.set(id, activity);
    while (this.log.length > this.maxActivities) {
      const dropped = this.log.shift();
      if (!dropped) break;
      // Forget an id only while it still points at the version that leaves the log.
      for (const id of [dropped.activity.id, ...dropped.aliases]) {
        if (id && this.byId.get(id) === dropped.activity) this.byId.delete(id);
      }
    }
    for (const listener of [...this.listeners]) listener.appended();
    return this.watermark;
  }

  /** Hears every append until the returned function is called or the conversation ends. */
  subscribe(listener: ConversationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the streams that this conversation is gone. */
  end(): void {
    for (const listener of [...this.listeners]) listener.ended();
    this.listeners.clear();
  }

  get(activityId: string): WireActivity | undefined {
    return this.byId.get(activityId);
  }

  /** Activities after `watermark` (all when absent or unparsable), and the watermark to ask with next. */
  since(watermark: string | null | undefined): { activities: WireActivity[]; watermark: string } {
    const after = watermark && /^\d+$/.test(watermark) ? Number(watermark) : 0;
    const activities = this.log.filter((e) => e.watermark > after).map((e) => e.activity);
    return { activities, watermark: String(this.watermark) };
  }
}

export class WebchatConversations implements DirectLineStore {
  private readonly conversations = new Map<string, WebchatConversation>();
  private readonly byToken = new Map<string, string>();
  private readonly files = new Map<string, StoredFile>();
  private storedBytes = 0;

  constructor(readonly limits: WebchatLimits = DEFAULT_WEBCHAT_LIMITS) {}

  get size(): number {
    return this.conversations.size;
  }

  /** A new conversation and its token (returned once; only its hash is kept). */
  create(user: WebchatUser): { conversation: WebchatConversation; token: string } {
    this.sweep();
    while (this.conversations.size >= this.limits.maxConversations) {
      const oldest = this.conversations.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
    const id = randomBytes(16).toString('base64url');
    const token = randomBytes(32).toString('base64url');
    const conversation = new WebchatConversation(id, hashToken(token), user, this.limits.maxActivities);
    this.conversations.set(id, conversation);
    this.byToken.set(hashToken(token).toString('hex'), id);
    return { conversation, token };
  }

  /** The conversation with this id, if it exists and has not expired (marks it active). */
  get(id: string): WebchatConversation | undefined {
    this.sweep();
    const conversation = this.conversations.get(id);
    if (conversation) this.touch(conversation);
    return conversation;
  }

  /** The conversation a token belongs to. */
  byBearer(token: string): WebchatConversation | undefined {
    const id = this.byToken.get(hashToken(token).toString('hex'));
    return id === undefined ? undefined : this.get(id);
  }

  /** Constant-time check of a bearer token against the conversation's token. */
  tokenMatches(conversation: WebchatConversation, token: string): boolean {
    return timingSafeEqual(hashToken(token), conversation.tokenHash);
  }

  /** Stores an upload; undefined when it would exceed the in-memory budget. */
  addFile(conversation: WebchatConversation, file: Omit<StoredFile, 'id' | 'conversationId'>): StoredFile | undefined {
    if (this.storedBytes + file.bytes.length > this.limits.maxStoredBytes) return undefined;
    const stored: StoredFile = { ...file, id: randomBytes(18).toString('base64url'), conversationId: conversation.id };
    this.files.set(stored.id, stored);
    conversation.files.add(stored.id);
    this.storedBytes += stored.bytes.length;
    return stored;
  }

  getFile(id: string): StoredFile | undefined {
    this.sweep();
    return this.files.get(id);
  }

  /** Forgets conversations idle for longer than the TTL (the map is kept in least-recently-active order). */
  sweep(now = Date.now()): void {
    for (const [id, conversation] of this.conversations) {
      if (now - conversation.lastActiveAt <= this.limits.idleTtlMs) break;
      this.remove(id);
    }
  }

  private touch(conversation: WebchatConversation): void {
    conversation.lastActiveAt = Date.now();
    // Re-insert so iteration order stays least-recently-active first.
    this.conversations.delete(conversation.id);
    this.conversations.set(conversation.id, conversation);
  }

  private remove(id: string): void {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    this.conversations.delete(id);
    conversation.end();
    this.byToken.delete(conversation.tokenHash.toString('hex'));
    for (const fileId of conversation.files) {
      const file = this.files.get(fileId);
      if (file) this.storedBytes -= file.bytes.length;
      this.files.delete(fileId);
    }
  }
}

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
