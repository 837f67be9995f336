import { createHmac, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** The secrets every replica of the web channel must agree on. */
export interface WebchatKeys {
  /** The connector's secret path segment (`…/webchat/connector/<secret>`): the bot's replies from any process land anywhere. */
  connectorSecret: string;
  /** Signs stream tickets: a `streamUrl` issued by one replica opens on any other. */
  ticketKey: Buffer;
}

const ROW = 'directline';

/**
 * The web channel's keys, derived from one row of random key material in the database, created by
 * the first process that asks (`ON CONFLICT DO NOTHING`, then read back: concurrent first starts
 * agree on the winner's). Never random per process, so any number of replicas and restarts share
 * them; rotating is deleting the row (every open stream URL and stored connector URL then stops
 * working).
 */
export async function loadWebchatKeys(dataSource: DataSource): Promise<WebchatKeys> {
  await dataSource.query('INSERT INTO webchat_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [ROW, randomBytes(32)]);
  const [row] = (await dataSource.query('SELECT secret FROM webchat_keys WHERE name = $1', [ROW])) as { secret: Buffer }[];
  if (!row) throw new Error('web chat: key material missing');
  const derive = (label: string) => createHmac('sha256', row.secret).update(label).digest();
  return {
    connectorSecret: derive('webchat connector path').toString('base64url'),
    ticketKey: derive('direct line stream tickets'),
  };
}
