import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import type { SlackConfig } from '../../config/config.js';
import type { Logger } from '../../logger.js';

/**
 * The Slack Web API client (`@slack/web-api`). `SLACK_API_URL` becomes its `slackApiUrl` (tests
 * point it at a loopback fake). A failed request is retried twice, quickly: a reply that arrives
 * minutes late is worse than an error in the log; Slack's own rate-limit answers (429 +
 * Retry-After) are waited out by the client.
 */
export function createSlackClient(config: Pick<SlackConfig, 'botToken' | 'apiUrl'>, logger: Logger): WebClient {
  return new WebClient(config.botToken, {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    logger: slackLogger(logger),
    retryConfig: { retries: 2, factor: 2, minTimeout: 300, maxTimeout: 2_000 },
    timeout: 10_000,
  });
}

/** The client's logger interface on top of ours (JSON lines; its debug output stays at debug). */
function slackLogger(logger: Logger): SlackLogger {
  const child = logger.child({ component: 'slack-web-api' });
  let level = LogLevel.INFO;
  const line = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  return {
    debug: (...args: unknown[]) => child.debug(line(args)),
    info: (...args: unknown[]) => child.info(line(args)),
    warn: (...args: unknown[]) => child.warn(line(args)),
    error: (...args: unknown[]) => child.error(line(args)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
