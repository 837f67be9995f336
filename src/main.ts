import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './logger.js';
import { startApp } from './app.js';
import { DatabaseStartError } from './db/startupError.js';

/** Entry point: wiring only. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const app = await startApp(config, { logger });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down gracefully (send again to exit at once)');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  // Not our bug but the operator's setup: one line that says what to do, no stack trace.
  if (err instanceof DatabaseStartError) {
    process.stderr.write(`rpa-assistant failed to start: ${err.message}\n`);
    process.exit(1);
  }
  if (isAddressInUse(err)) {
    process.stderr.write(`rpa-assistant failed to start: ${err.address}:${err.port} is already in use. Stop the other server there, or set PORT (0 picks a free port).\n`);
    process.exit(1);
  }
  process.stderr.write(`rpa-assistant failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

function isAddressInUse(err: unknown): err is { address: string; port: number } {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'EADDRINUSE' && 'port' in err && 'address' in err;
}
