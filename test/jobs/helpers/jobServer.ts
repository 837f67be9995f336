/**
 * The real server in a child process, for crash tests: configured by its environment (like
 * `npm start`), with the intent-table recognizer (the classifier is not what these tests are
 * about). Prints `READY <url>` on stdout once it listens.
 *
 *   node --import tsx test/jobs/helpers/jobServer.ts   (env: DATABASE_URL, WEBHOOK_URL, …)
 */
import { loadConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/logger.js';
import { startApp } from '../../../src/app.js';
import { IntentTableRecognizer } from '../../helpers/intentTable.js';

export const CHILD_INTENTS: Record<string, string> = {
  'order 20 units of SKU-1001 from Acme Corp': 'procurement.create_order',
};

const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...process.env });
const app = await startApp(config, { recognizer: new IntentTableRecognizer(CHILD_INTENTS), logger: createLogger(config.logLevel) });
process.stdout.write(`READY ${app.url}\n`);
process.on('SIGTERM', () => {
  void app.close().finally(() => process.exit(0));
});
