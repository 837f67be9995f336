import { AuthenticationConstants, type AuthenticateRequestResult, type ClaimsIdentity, type UserTokenClient } from 'botframework-connector';
import {
  type Activity,
  type BotAdapter,
  CallerIdConstants,
  CloudAdapter,
  type InvokeResponse,
  ConfigurationServiceClientCredentialFactory,
  type TurnContext,
} from 'botbuilder';
import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { currentTrace } from '../tracing/turnTrace.js';
import { RetryingBotFrameworkAuthentication } from './teams/connectorRetry.js';
import { teamsFormatting } from './teams/formatting.js';
import { isPoolTimeout } from '../db/errors.js';
import { ConnectorClientCache } from './connectorClientCache.js';

const POOL_BUSY_TEXT = "I'm busy right now and couldn't finish that. Please try again in a moment.";

const DEFAULT_SEND_RETRY = { retries: 4, baseDelayMs: 500, maxDelayMs: 10_000 };

/** CloudAdapter with its inbound processing exposed, so the route owns HTTP validation and errors. */
export class AssistantAdapter extends CloudAdapter {
  processInbound(
    authHeader: string,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(authHeader, activity, logic);
  }
}

/** Our authentication, whose per-request connector and user-token clients are built once and reused (connectorClientCache.ts). */
class CachingBotFrameworkAuthentication extends RetryingBotFrameworkAuthentication {
  readonly clients = new ConnectorClientCache();

  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    return result.connectorFactory ? { ...result, connectorFactory: this.clients.factoryFor(result.connectorFactory, result.claimsIdentity) } : result;
  }

  override createUserTokenClient(claimsIdentity: ClaimsIdentity): Promise<UserTokenClient> {
    return this.clients.userTokenClient(claimsIdentity, () => super.createUserTokenClient(claimsIdentity));
  }
}

/**
 * Builds the CloudAdapter. With no MicrosoftAppId the SDK disables JWT validation (local use);
 * with one, every inbound request must carry a valid Bot Framework token.
 */
export function createAdapter(config: AppConfig, logger: Logger): AssistantAdapter {
  const { bot } = config;
  const settings = {
    MicrosoftAppId: bot.appId ?? '',
    MicrosoftAppPassword: bot.appPassword ?? '',
    MicrosoftAppType: bot.appType,
    MicrosoftAppTenantId: bot.tenantId ?? '',
    // Overridable for sovereign clouds and for tests that sign their own tokens. Once any of
    // these is set the SDK stops applying its public-cloud defaults, so all are given.
    ...(bot.openIdMetadataUrl || bot.tokenIssuer
      ? {
          ValidateAuthority: true,
          ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
          ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
          OAuthUrl: AuthenticationConstants.OAuthUrl,
          CallerId: CallerIdConstants.PublicAzureChannel,
          ToBotFromChannelTokenIssuer: bot.tokenIssuer ?? AuthenticationConstants.ToBotFromChannelTokenIssuer,
          ToBotFromChannelOpenIdMetadataUrl: bot.openIdMetadataUrl ?? AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
          ToBotFromEmulatorOpenIdMetadataUrl: bot.openIdMetadataUrl ?? AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
        }
      : {}),
  };
  const credentials = new ConfigurationServiceClientCredentialFactory(settings);
  // Connector calls retry 429/412/502/504 with backoff, jitter and Retry-After (teams/connectorRetry.ts).
  const auth = new CachingBotFrameworkAuthentication(settings, credentials, bot.sendRetry ?? DEFAULT_SEND_RETRY, logger);
  const adapter = new AssistantAdapter(auth);

  instrumentAdapter(adapter, logger);
  // Teams reads message text as Markdown: keep the bot's line breaks and bullet lists (teams/formatting.ts).
  adapter.use(teamsFormatting);
  return adapter;
}

/**
 * What every adapter of this server does around a turn (the Bot Framework one, and channels with
 * their own adapter such as native Slack): time outbound sends as the `send` stage, and answer a
 * failed turn with a short apology (the error goes to the trace and the log, never to the user).
 */
export function instrumentAdapter(adapter: BotAdapter, logger: Logger): void {
  // Time every outbound send as the `send` stage of the current turn.
  adapter.use(async (context: TurnContext, next) => {
    context.onSendActivities(async (_ctx, _activities, sendNext) => {
      const start = performance.now();
      try {
        return await sendNext();
      } finally {
        currentTrace()?.record('send', performance.now() - start);
      }
    });
    await next();
  });

  adapter.onTurnError = async (context, error) => {
    currentTrace()?.fail(error);
    // A saturated database pool is overload, not a fault: answer "busy" (src/bot/http/admission.ts).
    const busy = isPoolTimeout(error);
    if (busy) currentTrace()?.setOutcome('busy');
    logger[busy ? 'warn' : 'error']({ err: error, conversationId: context.activity.conversation?.id }, busy ? 'turn refused: database pool busy' : 'turn failed');
    try {
      await context.sendActivity(busy ? POOL_BUSY_TEXT : 'Sorry, something went wrong on my side. Please try again.');
    } catch (sendError) {
      logger.warn({ err: sendError }, 'could not send the error reply');
    }
  };
}
