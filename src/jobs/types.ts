/**
 * Durable automations: every write a skill requests is an `automation_jobs` row carried out by a
 * pg-boss job. This module is channel-neutral: replies are `SkillReply`s, delivered by whatever
 * notifier the bot registers.
 */
import type { QueryRunner } from 'typeorm';
import type { SkillReply } from '../skills/types.js';

export type JobStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'dead_letter' | 'cancelled';

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'dead_letter', 'cancelled'];
export const ACTIVE_STATUSES: readonly JobStatus[] = ['queued', 'running', 'waiting'];

export interface JobRecord {
  id: number;
  skill: string;
  action: string;
  status: JobStatus;
  idempotencyKey: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  connector: string | null;
  subjectType: string | null;
  subjectId: string | null;
  requestedBy: string;
  requestedByName: string | null;
  channelId: string;
  conversationId: string;
  activityId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export interface JobEvent {
  id: number;
  jobId: number;
  at: Date;
  kind: string;
  message: string;
  data: Record<string, unknown> | null;
}

export interface JobRequest {
  skill: string;
  action: string;
  input: Record<string, unknown>;
  idempotencyKey: string;
  requestedBy: { id: string; name?: string };
  origin: { channelId: string; conversationId: string; activityId?: string };
  subject?: { type: string; id: string };
}

/** What skills see of the job system. */
export interface JobSubmitter {
  /**
   * Inserts the job row and sends the pg-boss job inside `tx` (the caller commits). Workers in
   * this process are woken once the transaction has committed (`kick`).
   */
  enqueue(tx: QueryRunner, request: JobRequest): Promise<{ jobId: number }>;
  /** Wakes the workers after a commit (jobs sent in a transaction are not visible before). */
  kick(): void;
}

/** Where a notification goes. */
export type NoticeTarget =
  /** The conversation the job was requested from. */
  | { requester: true }
  | { conversation: { channelId: string; conversationId: string } }
  /** The user's most recent conversation with the bot. */
  | { userId: string };

export interface Notice {
  kind: 'completed' | 'failed' | 'needs_approval' | 'approval_request' | 'info';
  to: NoticeTarget;
  reply: SkillReply;
}

/** How a job ends (or, for `pending_approval`-like outcomes, stops for now). */
export interface Finish {
  status: 'succeeded' | 'failed' | 'dead_letter' | 'cancelled';
  result?: Record<string, unknown>;
  error?: string;
  /** The job event text ("PO-1101 sent to Acme Corp"). */
  message: string;
  notices: Notice[];
  audit?: { action: string; outcome: string; details?: Record<string, unknown> };
}

/** A step that needs the outside world: the connector carries it out. */
export interface Dispatch {
  operation: string;
  payload: Record<string, unknown>;
  /** Job event text ("Sending PO-1101 to Acme Corp"). */
  message: string;
  /**
   * The `Idempotency-Key` the RPA side sees for this step, when it names a business operation
   * that more than one job may carry out (`send:PO-1102`, whether the create or the approve job
   * sends it). Default: the job's own key.
   */
  idempotencyKey?: string;
}

export type StepResult = ({ kind: 'finish' } & Finish) | ({ kind: 'dispatch' } & Dispatch);

/** The outcome an RPA tool reports (callback) or the simulator plays. */
export interface ConnectorResult {
  status: 'succeeded' | 'failed';
  data?: Record<string, unknown>;
  error?: string;
  /** No result arrived in time (JOB_RESULT_TIMEOUT_S): the outcome on the other side is unknown. */
  timedOut?: boolean;
}

/**
 * Carries out one action. Every method runs inside a transaction that holds the job row lock
 * and may run more than once for the same job (pg-boss delivers at least once): make it
 * idempotent (e.g. create the purchase order only if the job has no subject yet).
 */
export interface JobHandler {
  action: string;
  /** The local part of the job; return what is left for the connector, or how it ended. */
  run(job: JobRecord, tx: QueryRunner, env: JobHandlerEnv): Promise<StepResult>;
  /** Applies what the connector reported. */
  complete(job: JobRecord, result: ConnectorResult, tx: QueryRunner, env: JobHandlerEnv): Promise<Finish>;
  /** Retries are exhausted: say so (the job becomes `dead_letter`). */
  deadLetter(job: JobRecord, error: string, tx: QueryRunner, env: JobHandlerEnv): Promise<Finish>;
  /**
   * A result that arrived after the job had ended without one (its result deadline passed, or its
   * retries were spent while the RPA side was in fact working): the outside world did act. Apply
   * what still matters (e.g. record the supplier reference, start a compensation) and say who is
   * told. Undefined (or no method): nothing to do, the result is answered as already applied (409).
   * Called at most once per job; the job keeps its status.
   */
  late?(job: JobRecord, result: ConnectorResult, tx: QueryRunner, env: JobHandlerEnv): Promise<LateResult | undefined>;
}

/** What a late result came to (see `JobHandler.late`): recorded on the job, its notices sent. */
export type LateResult = Pick<Finish, 'message' | 'notices' | 'audit'> & { result?: Record<string, unknown> };

export interface JobHandlerEnv {
  /** Adds an event to the job's timeline (inside the same transaction). */
  event(kind: string, message: string, data?: Record<string, unknown>): Promise<void>;
  /** Sets what the job acts on (e.g. the purchase order it created). */
  setSubject(type: string, id: string): Promise<void>;
  /**
   * Starts another job in this step's transaction (e.g. the cancel a send job leaves behind): it
   * exists only if the step commits, and the workers are woken once it has.
   */
  enqueue(request: JobRequest): Promise<{ jobId: number }>;
  now(): Date;
}

/** A notification waiting in the outbox. */
export interface NotificationRecord {
  id: number;
  jobId: number | null;
  kind: string;
  channelId: string | null;
  conversationId: string | null;
  userId: string | null;
  reply: SkillReply;
  attempts: number;
}

export type DeliveryResult = { delivered: true } | { delivered: false; reason: string };

/** Sends a notification to a conversation (the bot implements it with continueConversationAsync). */
export type Notifier = (notification: NotificationRecord) => Promise<DeliveryResult>;
