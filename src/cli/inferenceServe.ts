/**
 * Serves the local inference pool over the Open Inference Protocol (KServe v2 REST), so several
 * app replicas without their own model can share one inference tier (INFERENCE_BACKEND=remote,
 * INFERENCE_URL=http://this-host:8000).
 *
 *   npm run inference:serve -- [--model DIR] [--host 127.0.0.1] [--port 8000] [--name NAME]
 *
 * Pool settings come from the usual INFERENCE_* variables (sessions, batch, queue, timeout);
 * --name defaults to INFERENCE_MODEL_NAME. Binds to loopback unless --host says otherwise.
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../logger.js';
import { readModelDir } from '../inference/modelDir.js';
import { createModelPool } from '../inference/pool/index.js';
import { createOipServer } from '../inference/remote/oipServer.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8000' },
    name: { type: 'string' },
  },
});

const config = loadConfig();
const logger = createLogger(config.logLevel);
const modelDir = values.model ?? config.nlu.modelDir;
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0..65535, got ${values.port}`);
const name = values.name ?? config.inference.remote?.modelName ?? 'intent-gpt2';

const dir = await readModelDir(modelDir);
const { backend: _backend, remote: _remote, ...poolOptions } = config.inference;
const pool = await createModelPool(modelDir, { ...poolOptions, logger });
const server = createOipServer({ runner: pool, modelName: name, numLabels: dir.labels.length, ready: () => pool.ready });
server.listen(port, values.host);
await once(server, 'listening');
const address = server.address();
logger.info({ address, model: name, modelDir }, 'inference server (Open Inference Protocol / KServe v2) listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'inference server stopping');
    server.close();
    void pool.close().then(() => process.exit(0));
  });
}
