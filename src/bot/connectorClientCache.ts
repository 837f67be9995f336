import { AuthenticationConstants, ConnectorFactory, type ClaimsIdentity, type ConnectorClient } from 'botframework-connector';
import { installThinReplies } from './replyClient/replyClient.js';

/** Distinct (app, serviceUrl, audience) clients kept; past it the cache starts over (channels have a handful). */
const MAX_CLIENTS = 256;

/**
 * CloudAdapter builds a new ConnectorClient — credentials, an @azure/core-client pipeline, our
 * retry and IPv6 policies — for every inbound activity, and a new UserTokenClient too: about 2% of
 * the process's busy time under load (turncost profile, docs/performance.md). Both are stateless
 * between calls (the credentials cache and refresh their own token), and the SDK's older
 * BotFrameworkAdapter kept one ConnectorClient per serviceUrl and app for the same reason. So one
 * is kept per (bot app id from the request's claims, serviceUrl, audience): a request for another
 * app (a skill) or another cloud never gets a client built for someone else.
 */
export class ConnectorClientCache {
  private readonly clients = new Map<string, Promise<ConnectorClient>>();
  private readonly tokenClients = new Map<string, Promise<unknown>>();
  private created = 0;
  private reused = 0;

  /** A factory for one request: clients come from the cache, built by `inner` when missing. */
  factoryFor(inner: ConnectorFactory, claims: ClaimsIdentity): ConnectorFactory {
    return new CachedConnectorFactory(inner, appIdOf(claims), this);
  }

  /** The UserTokenClient of the request's app, built once by `create`. */
  userTokenClient<T>(claims: ClaimsIdentity, create: () => Promise<T>): Promise<T> {
    return remember(this.tokenClients, appIdOf(claims), create) as Promise<T>;
  }

  /** How often a client was built vs handed out again (the hit rate, for the bench notes). */
  stats(): { created: number; reused: number } {
    return { created: this.created, reused: this.reused };
  }

  /** @internal */
  client(key: string, create: () => Promise<ConnectorClient>): Promise<ConnectorClient> {
    if (this.clients.has(key)) this.reused++;
    else this.created++;
    return remember(this.clients, key, create);
  }
}

class CachedConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly appId: string,
    private readonly cache: ConnectorClientCache,
  ) {
    super();
  }

  create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    // The turn's replies go out through the thin reply client (replyClient/replyClient.ts) where it copies the SDK exactly.
    return this.cache.client(JSON.stringify([this.appId, serviceUrl, audience ?? '']), () =>
      this.inner.create(serviceUrl, audience).then(async (client) => {
        await installThinReplies(client, serviceUrl);
        return client;
      }),
    );
  }
}

/** The promise under `key`, created once; a failed creation is forgotten so the next request tries again. */
function remember<T>(map: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  const found = map.get(key);
  if (found) return found;
  if (map.size >= MAX_CLIENTS) map.clear();
  const made = create();
  map.set(key, made);
  made.catch(() => {
    if (map.get(key) === made) map.delete(key);
  });
  return made;
}

/** The bot app id the SDK builds clients for (its getAppId: audience claim, else appid claim). */
function appIdOf(claims: ClaimsIdentity): string {
  return claims.getClaimValue(AuthenticationConstants.AudienceClaim) ?? claims.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
}
