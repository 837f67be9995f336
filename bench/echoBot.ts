/**
 * The floor for bench:e2e: the Bot Framework SDK's own minimal echo bot — CloudAdapter on restify,
 * no NLU, no state, no trace, no database. Whatever a turn of the real server costs above this is
 * ours. Started by `npm run bench:e2e -- --rate …` as a child process, like the server.
 *
 *   PORT=3979 tsx bench/echoBot.ts
 */
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import restify from 'restify';

// No MicrosoftAppId: the SDK skips JWT validation, as the server under test does locally.
const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
adapter.onTurnError = async (context, error) => {
  process.stderr.write(`echo bot turn error: ${error instanceof Error ? error.message : String(error)}\n`);
  await context.sendActivity('error');
};

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(`echo: ${context.activity.text ?? ''}`);
      await next();
    });
  }
}

const bot = new EchoBot();
const server = restify.createServer();
server.use(restify.plugins.bodyParser());
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});
// Same readiness contract as the server, so the bench waits for both the same way.
server.get('/readyz', (_req, res, next) => {
  res.send({ ready: true, checks: {} });
  return next();
});

server.listen(Number(process.env.PORT ?? 3979), process.env.HOST ?? '127.0.0.1', () => {
  process.stderr.write(`echo bot listening on ${server.url}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
