/**
 * The overload protections (admission, lock wait, pool wait, reply deadline) adapt to how busy the
 * machine is; the full suite runs in parallel forks on 2 cores, where a turn can take seconds. Tests
 * of other behaviour get roomy limits so that a slow CI machine sheds nothing; the tests of those
 * protections set their own values (`env` wins). `npm run bench:cluster` starts its replicas with
 * them too, so a busy bench machine measures latency rather than shedding.
 */
export const ROOMY_LIMITS: Record<string, string> = {
  ADMISSION_TARGET_MS: '0',
  ADMISSION_MAX_INFLIGHT: '256',
  ADMISSION_QUEUE_MAX: '1024',
  ADMISSION_QUEUE_TIMEOUT_MS: '14000',
  TURN_LOCK_TIMEOUT_MS: '30000',
  TURN_DEADLINE_MS: '14000',
  DB_ACQUIRE_TIMEOUT_MS: '10000',
};
