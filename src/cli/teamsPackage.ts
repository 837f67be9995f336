/**
 * Builds the Teams app package (manifest.json v1.30 + icons, zipped flat) for sideloading or an
 * org catalog:   npm run teams:package [-- --app-id <GUID>] [--version 1.2.3] [--out file.zip]
 * The app id defaults to MicrosoftAppId (the Azure Bot registration). The manifest is validated
 * against the shipped v1.30 JSON schema before anything is written.
 */
import { parseArgs } from 'node:util';
import { readTeamsPackageEnv } from '../config/config.js';
import { AppPackageError, buildAppPackage } from '../bot/teams/appPackage.js';

const { values } = parseArgs({
  options: {
    'app-id': { type: 'string' },
    version: { type: 'string' },
    out: { type: 'string' },
    'regenerate-icons': { type: 'boolean', default: false },
  },
});

try {
  const built = await buildAppPackage({
    appId: values['app-id'] ?? readTeamsPackageEnv().appId,
    version: values.version,
    outFile: values.out,
    regenerateIcons: values['regenerate-icons'],
  });
  process.stdout.write(`Wrote ${built.zipPath} (${built.entries.join(', ')}); manifest valid against schema v1.30.\n`);
  process.stdout.write('Upload it in Teams: Apps → Manage your apps → Upload an app → Upload a custom app.\n');
} catch (err) {
  if (err instanceof AppPackageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
