import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import JSZip from 'jszip';
import { checkIcon, renderColorIcon, renderOutlineIcon } from './icons.js';

/**
 * The Teams app package: manifest.json (schema v1.30) + colour and outline icons, zipped flat.
 * The manifest is rendered from appPackage/manifest.template.json and validated against the
 * official v1.30 JSON schema shipped in appPackage/schema/ (no network).
 */

export const APP_PACKAGE_DIR = fileURLToPath(new URL('../../../appPackage/', import.meta.url));
export const MANIFEST_VERSION = '1.30';
export const SCHEMA_PATH = join(APP_PACKAGE_DIR, 'schema', `MicrosoftTeams.v${MANIFEST_VERSION}.schema.json`);
export const TEMPLATE_PATH = join(APP_PACKAGE_DIR, 'manifest.template.json');
export const ICON_FILES = { color: 'color.png', outline: 'outline.png' } as const;

const GUID = /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

export class AppPackageError extends Error {
  constructor(readonly problems: string[]) {
    super(`Teams app package not built:\n  ${problems.join('\n  ')}`);
    this.name = 'AppPackageError';
  }
}

/** Fills `${{NAME}}` placeholders in every string of the parsed template (never in raw JSON text). */
export function renderManifest(template: unknown, vars: Record<string, string>): Record<string, unknown> {
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\$\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
        const v = vars[name];
        if (v === undefined) throw new AppPackageError([`manifest template uses \${{${name}}}, which has no value`]);
        return v;
      });
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(template) as Record<string, unknown>;
}

// CommonJS packages: under NodeNext the default import is module.exports; both also export `.default`.
const Ajv = ajvDraft04.default;
const addFormats = ajvFormats.default;
let validator: ReturnType<InstanceType<typeof Ajv>['compile']> | undefined;

/** Validates against the shipped v1.30 schema; returns readable problems (empty when valid). */
export function validateManifest(manifest: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);
  }
  if (validator(manifest)) return [];
  return (validator.errors ?? []).map((e) => {
    const where = e.instancePath || '(root)';
    const extra = 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : '';
    return `manifest ${where}: ${e.message ?? 'invalid'}${extra}`;
  });
}

export interface BuildOptions {
  /** The bot's Microsoft App ID (GUID): the manifest's app id and the bot id. */
  appId: string | undefined;
  /** App version (semver); default the package.json version. */
  version?: string;
  /** Where the zip goes; default appPackage/rpa-assistant.zip. */
  outFile?: string;
  /** Folder with manifest.template.json and the icons; default appPackage/. */
  dir?: string;
  /** Overwrite the icons with freshly drawn ones. */
  regenerateIcons?: boolean;
}

export interface BuiltPackage {
  zipPath: string;
  manifest: Record<string, unknown>;
  /** Entry names in the zip, in order. */
  entries: string[];
}

export async function buildAppPackage(options: BuildOptions): Promise<BuiltPackage> {
  const dir = options.dir ?? APP_PACKAGE_DIR;
  const appId = options.appId?.trim();
  if (!appId) {
    throw new AppPackageError([
      'No app id: set MicrosoftAppId (the Azure Bot registration’s Microsoft App ID) or pass --app-id <GUID>',
    ]);
  }
  if (!GUID.test(appId)) throw new AppPackageError([`App id "${appId}" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`]);
  const version = options.version ?? packageVersion();
  if (!SEMVER.test(version)) throw new AppPackageError([`Version "${version}" is not MAJOR.MINOR.PATCH`]);

  const template = JSON.parse(readFileSync(join(dir, 'manifest.template.json'), 'utf8')) as unknown;
  const manifest = renderManifest(template, { APP_ID: appId, VERSION: version });
  const problems = validateManifest(manifest);
  if (manifest.manifestVersion !== MANIFEST_VERSION) problems.push(`manifestVersion must be "${MANIFEST_VERSION}"`);

  const icons: Record<keyof typeof ICON_FILES, Buffer> = {
    color: iconBytes(dir, 'color', options.regenerateIcons),
    outline: iconBytes(dir, 'outline', options.regenerateIcons),
  };
  problems.push(...checkIcon(icons.color, 'color').problems, ...checkIcon(icons.outline, 'outline').problems);
  const declared = manifest.icons as Record<string, string> | undefined;
  if (declared?.color !== ICON_FILES.color || declared?.outline !== ICON_FILES.outline) {
    problems.push(`manifest icons must be "${ICON_FILES.color}" and "${ICON_FILES.outline}" (files at the zip root)`);
  }
  if (problems.length > 0) throw new AppPackageError(problems);

  // Flat: Teams rejects a package whose files sit in a folder.
  const zip = new JSZip();
  const fixedDate = new Date('2020-01-01T00:00:00Z'); // same inputs → same zip bytes
  zip.file('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, { date: fixedDate });
  zip.file(ICON_FILES.color, icons.color, { date: fixedDate });
  zip.file(ICON_FILES.outline, icons.outline, { date: fixedDate });
  const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 } });
  const zipPath = options.outFile ?? join(dir, 'rpa-assistant.zip');
  writeFileSync(zipPath, bytes);
  return { zipPath, manifest, entries: Object.keys(zip.files) };
}

function iconBytes(dir: string, kind: keyof typeof ICON_FILES, regenerate = false): Buffer {
  const path = join(dir, ICON_FILES[kind]);
  if (regenerate || !existsSync(path)) writeFileSync(path, kind === 'color' ? renderColorIcon() : renderOutlineIcon());
  return readFileSync(path);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
