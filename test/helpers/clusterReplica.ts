/**
 * One process of the test cluster (deploy/cluster.ts `entry`): the real server configured by its
 * environment like `npm start` (ROLE, DATABASE_URL, PORT, …), with the intent-table recognizer in
 * place of the GPT-2 classifier (a test double for the intent only, see intentTable.ts: three
 * replicas loading the model would spend the CI box's two cores on inference, which is not what
 * the scale-out tests are about). SIGTERM/SIGINT close it gracefully, as src/main.ts does.
 *
 *   node --import tsx test/helpers/clusterReplica.ts
 */
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startApp } from '../../src/app.js';
import { IntentTableRecognizer } from './intentTable.js';

/** Every utterance the cluster tests say, with its intent. */
export const CLUSTER_INTENTS: Record<string, string> = {
  hi: 'assistant.greet',
  'order 20 units of SKU-1001 from Acme Corp': 'procurement.create_order',
  'what is the status of PO-1002': 'procurement.order_status',
  'how many SKU-1001 in WH-B': 'storage.stock_level',
};

const config = loadConfig();
const logger = createLogger(config.logLevel);
const app = await startApp(config, { recognizer: new IntentTableRecognizer(CLUSTER_INTENTS), logger });
process.stdout.write(`READY ${app.url}\n`);
const stop = () => {
  void app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
