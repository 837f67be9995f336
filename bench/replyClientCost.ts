/**
 * `npx tsx bench/replyClientCost.ts [--replies 2000] [--rounds 5] [--concurrency 4]`: CPU per reply
 * of the SDK's ConnectorClient.replyToActivity vs the thin reply client (src/bot/replyClient), same
 * pipeline (an inbound request's connector factory, as a turn's replies use), same activity, in this
 * process; rounds interleaved SDK / thin / thin / SDK …. The fake channel runs in a child process,
 * so `process.cpuUsage()` here is the sending side only (the bot server's share of a reply).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import { installThinReplies, replyClientStats } from '../src/bot/replyClient/replyClient.js';
import { RetryingBotFrameworkAuthentication } from '../src/bot/teams/connectorRetry.js';
import { createLogger } from '../src/logger.js';

if (process.argv[2] === '--channel') {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"id":"1700000000000"}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port));
} else {
  const { values } = parseArgs({ options: { replies: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '4' } } });
  const replies = Number(values.replies);
  const rounds = Number(values.rounds);
  const concurrency = Number(values.concurrency);
  const child = fork(fileURLToPath(import.meta.url), ['--channel'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const serviceUrl = `http://127.0.0.1:${port}/amer/`;
  const settings = { MicrosoftAppId: '', MicrosoftAppPassword: '' };
  const auth = new RetryingBotFrameworkAuthentication(settings, new ConfigurationServiceClientCredentialFactory(settings), { retries: 4, baseDelayMs: 500, maxDelayMs: 10_000 }, createLogger('silent'));
  const inbound = { type: 'message', channelId: 'msteams', serviceUrl, conversation: { id: 'a:conv' } };
  const factory = (await auth.authenticateRequest(inbound as never, '')).connectorFactory!;
  const sdk = await factory.create(serviceUrl, undefined);
  const thin = await factory.create(serviceUrl, undefined);
  if (!(await installThinReplies(thin, serviceUrl))) throw new Error('thin path not installed');
  // A reply as the bot sends it in the e2e bench (text, suggested actions, the turn's addresses).
  const activity = () => ({
    type: 'message',
    serviceUrl,
    channelId: 'msteams',
    from: { id: '28:bot', name: 'RPA Assistant' },
    conversation: { id: 'a:conv', conversationType: 'personal', tenantId: 'tenant' },
    recipient: { id: '29:user', name: 'User', aadObjectId: '00000000-0000-0000-0000-000000000001' },
    text: 'Invoice **INV-2024-0042** is *approved* and was paid on 3 March.',
    inputHint: 'acceptingInput',
    locale: 'en-US',
    replyToId: 'in-1',
    entities: [{ type: 'https://schema.org/Message', '@type': 'Message', '@context': 'https://schema.org' }],
    suggestedActions: { actions: [{ type: 'imBack', title: 'Status of my requests', value: 'status' }, { type: 'imBack', title: 'Help', value: 'help' }] },
  });
  const run = async (client: ConnectorClient): Promise<number> => {
    const start = process.cpuUsage();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < replies) await client.conversations.replyToActivity('a:conv', 'in-1', activity() as never);
      }),
    );
    const used = process.cpuUsage(start);
    return (used.user + used.system) / replies;
  };
  await run(sdk);
  await run(thin); // warm-up
  const results: { sdk: number[]; thin: number[] } = { sdk: [], thin: [] };
  for (let r = 0; r < rounds; r++) {
    const order: ('sdk' | 'thin')[] = r % 2 === 0 ? ['sdk', 'thin'] : ['thin', 'sdk'];
    for (const side of order) results[side].push(await run(side === 'sdk' ? sdk : thin));
    console.log(`round ${r + 1}: SDK ${results.sdk[r]!.toFixed(1)} µs/reply, thin ${results.thin[r]!.toFixed(1)} µs/reply`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`median CPU per reply (sending side): SDK ${median(results.sdk).toFixed(1)} µs, thin ${median(results.thin).toFixed(1)} µs, saved ${(median(results.sdk) - median(results.thin)).toFixed(1)} µs (${((100 * (median(results.sdk) - median(results.thin))) / median(results.sdk)).toFixed(0)} %)`);
  console.log(`thin replies ${replyClientStats.thin}, sent to the SDK by the thin client ${replyClientStats.sdk}`);
  child.kill();
}
