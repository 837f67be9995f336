/**
 * The skill contract. A skill is a folder (`src/skills/<name>/`) exporting a `Skill`: the NLU
 * intents it answers, its actions (zod schema of the slots, how to read them from an utterance,
 * how to validate them, and what to do), the job handlers that carry out its writes, and its
 * replies. Skills know nothing about Bot Framework: they return `SkillReply` (text + a neutral
 * card description) that `src/bot` renders.
 */
import type { QueryRunner } from 'typeorm';
import type { z } from 'zod';
import type { Role } from '../config/config.js';
import type { JobHandler, JobSubmitter } from '../jobs/types.js';
import type { MasterDataStore } from './data/masterData.js';
import type { RoleDirectory } from './roles.js';
import type { DataSource } from 'typeorm';

export type { Role };

/** An entity as the NLU returns it (structurally the same as `src/nlu/types.ts` Entity). */
export interface SkillEntity {
  type: string;
  value: unknown;
  text: string;
  start: number;
  end: number;
}

/** Who is asking (ids as the channel gives them; roles from configuration). */
export interface Actor {
  id: string;
  name?: string;
  roles: readonly Role[];
}

/** The message a request came from (the audit log's "from which message"). */
export interface Origin {
  channelId: string;
  conversationId: string;
  activityId?: string;
}

export interface SkillSettings {
  approvalThreshold: number;
  currency: string;
}

/** Shared services every skill gets. */
export interface SkillEnv {
  db: DataSource;
  jobs: JobSubmitter;
  masterData: MasterDataStore;
  roles: RoleDirectory;
  settings: SkillSettings;
  now(): Date;
}

export interface SkillContext {
  actor: Actor;
  origin: Origin;
  env: SkillEnv;
}

// ------------------------------------------------------------------------------------ replies

/** What an action says: always plain text (every channel), optionally a card. */
export interface SkillReply {
  text: string;
  card?: CardSpec;
  /** Shorter text to send with the card where cards are shown (`text` says it all without one). */
  cardText?: string;
  /** Quick replies a channel may show as buttons (the text is sent back when clicked). */
  choices?: string[];
  /** A file to hand over with the reply (an export); `src/bot/files` delivers it per channel. */
  file?: SkillFile;
}

/** A file a skill produces (e.g. an .xlsx export). */
export interface SkillFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

/** A channel-neutral card: `src/bot/cards` renders it as an Adaptive Card (≤ 1.5). */
export interface CardSpec {
  title: string;
  subtitle?: string;
  facts?: { title: string; value: string }[];
  table?: { columns: string[]; rows: string[][] };
  notes?: string[];
  actions?: CardAction[];
}

export interface CardAction {
  title: string;
  /** Sent back as the activity `value` when clicked (`Action.Submit`). */
  data: CardSubmit;
  style?: 'positive' | 'destructive' | 'default';
}

/** Card submit payloads: a verb, the server-issued nonce and what it refers to. */
export interface CardSubmit {
  verb: string;
  nonce?: string;
  ref?: string;
  [key: string]: string | number | undefined;
}

// ------------------------------------------------------------------------------------ actions

/** The slots collected so far; shaped like the action's schema, plus whatever raw text it keeps. */
export type Draft = Record<string, unknown>;

export interface ExtractInput {
  text: string;
  entities: readonly SkillEntity[];
  /** The slot the last question asked for (`edit` after "what should I change?"). */
  expecting?: string;
}

export type CheckResult<T> =
  | { status: 'ready'; slots: T }
  /**
   * Ask for one missing/invalid slot. `suggestion` is offered as "Did you mean …?": a "yes" merges
   * its `patch` into the draft, a "no" merges `onReject` (e.g. forgets the unknown name); `null`
   * values delete a slot.
   */
  | { status: 'ask'; slot: string; text: string; suggestion?: Suggestion; choices?: string[] }
  /** Stop: the answer explains why (unknown id, not allowed, wrong state). */
  | { status: 'refuse'; reply: SkillReply };

export interface Suggestion {
  patch: Draft;
  label: string;
  onReject?: Draft;
}

/** What a write shows before it runs. */
export interface Confirmation {
  /** The whole question in plain text ("… Shall I go ahead?"). */
  text: string;
  card: CardSpec;
}

export interface SubmitResult {
  reply: SkillReply;
  jobId?: number;
  /** For the audit log. */
  subject?: { type: string; id: string };
  /** Audit outcome when no job started now: `refused` (default) or `deferred` (a job starts later). */
  outcome?: 'refused' | 'deferred';
}

interface ActionBase<T> {
  /** e.g. `procurement.create_order`. */
  name: string;
  /** One line: what it does (LangChain tool description, help). */
  description: string;
  /** The complete, valid slots (also the LangChain tool's input schema). */
  schema: z.ZodType<T>;
  /** Help shown when the user types "help" in the middle of this action. */
  help: string;
  /** Examples of corrections, for "What would you like to change?" after Edit (e.g. `"make it 300"`). */
  editExamples?: string;
  /** Reads slots from an utterance into the draft (the first message, an answer, a correction). */
  extract(input: ExtractInput, draft: Draft): Draft;
  /** Validates the draft against master data, permissions and state. Must not hold a transaction. */
  check(draft: Draft, ctx: SkillContext): Promise<CheckResult<T>>;
}

export interface ReadAction<T = unknown> extends ActionBase<T> {
  kind: 'read';
  answer(slots: T, ctx: SkillContext): Promise<SkillReply>;
}

export interface WriteAction<T = unknown> extends ActionBase<T> {
  kind: 'write';
  /** The summary the user confirms. */
  confirm(slots: T, ctx: SkillContext): Promise<Confirmation>;
  /**
   * Starts the write inside `tx` (the transaction that also claimed the idempotency key): usually
   * `ctx.env.jobs.enqueue(tx, …)`. Only `tx` may be used for database access here.
   */
  submit(slots: T, ctx: SkillContext, tx: QueryRunner, idempotencyKey: string): Promise<SubmitResult>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ActionDef<T = any> = ReadAction<T> | WriteAction<T>;

export interface Skill {
  name: string;
  /** NLU intent label → action name. */
  intents: Record<string, string>;
  actions: ActionDef[];
  /** Carry out this skill's writes as durable jobs. */
  jobHandlers: JobHandler[];
}

/** The dependencies a skill factory receives. */
export interface SkillDeps {
  settings: SkillSettings;
}
