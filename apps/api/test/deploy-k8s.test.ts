/**
 * The Kubernetes manifests (deploy/k8s) against Kubernetes' own schemas and against the code they
 * deploy. There is no cluster here: the kustomization is rendered as kustomize would (its
 * `resources`, `namespace` and `images`; compared with `kubectl kustomize` where kubectl is
 * installed), each object is validated against the JSON schema of its apiVersion and kind
 * (kubernetes-models, generated from Kubernetes' OpenAPI), and what the objects configure is run
 * through the real code: loadConfig, the app's health routes, the build's entry points.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { type Config, loadConfig } from '../src/config.ts';
import {
  apiStage,
  builtEntryPoints,
  dockerfile,
  dockerfileEnv,
  documented,
  exists,
  operatorValue,
  read,
  readByConfig,
  trustProblems,
} from './deploy.helpers.ts';
import { createTestApp, type TestApp } from './helper.ts';

const K8S = 'deploy/k8s';
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

// The manifests are data read from YAML; these name the few fields the checks below read.
interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Probe {
  httpGet?: { path?: string; port: string | number };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: each kind's spec differs; the schema check types it.
  spec?: any;
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
}
interface Kustomization {
  namespace?: string;
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
}

const loadYaml = (file: string): K8sObject[] =>
  parseAllDocuments(read(file))
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);

/**
 * What `kubectl kustomize deploy/k8s` outputs, for the features this kustomization uses: its
 * resource files, the namespace on each namespaced object, and the image overrides. A feature it
 * does not know fails the test rather than being ignored.
 */
function renderKustomization(dir: string): K8sObject[] {
  const kustomization = parse(read(`${dir}/kustomization.yaml`)) as Kustomization & Record<string, unknown>;
  const known = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images']);
  const unknown = Object.keys(kustomization).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`renderKustomization does not apply ${unknown.join(', ')}: add it`);

  const objects = kustomization.resources.flatMap((resource) => loadYaml(`${dir}/${resource}`));
  for (const object of objects) {
    if (kustomization.namespace && object.kind !== 'Namespace') {
      object.metadata.namespace = kustomization.namespace;
    }
    const pod = podSpecOf(object);
    for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      // kustomize matches the image's name, whatever tag or digest the manifest gives it, and
      // keeps that tag unless the entry sets one.
      const [, imageName = '', tag = ''] = container.image?.match(/^(.*?)((?::[^:/@]*)?(?:@.*)?)$/) ?? [];
      const image = kustomization.images?.find((entry) => entry.name === imageName);
      if (!image) continue;
      const name = image.newName ?? image.name;
      container.image = image.digest
        ? `${name}@${image.digest}`
        : image.newTag
          ? `${name}:${image.newTag}`
          : `${name}${tag}`;
    }
  }
  return objects;
}

function podSpecOf(object: K8sObject): PodSpec | undefined {
  return object.kind === 'Deployment' || object.kind === 'Job'
    ? (object as Workload).spec.template.spec
    : undefined;
}

const kustomization = parse(read(`${K8S}/kustomization.yaml`)) as Kustomization;
const rendered = renderKustomization(K8S);
/** The Secret's keys, with placeholders: not applied by the kustomization (see its comment). */
const secretExample = loadYaml(`${K8S}/secret.example.yaml`);

const ofKind = <T extends K8sObject = K8sObject>(kind: string) =>
  rendered.filter((object) => object.kind === kind) as T[];
const named = <T extends K8sObject = K8sObject>(kind: string, name: string): T => {
  const object = ofKind<T>(kind).find((candidate) => candidate.metadata.name === name);
  if (!object) throw new Error(`no ${kind} named ${name} in ${K8S}`);
  return object;
};

const workloads = [...ofKind<Workload>('Deployment'), ...ofKind<Workload>('Job')];
const deployments = ofKind<Workload>('Deployment');
const containersOf = (workload: Workload) => [
  ...workload.spec.template.spec.containers,
  ...(workload.spec.template.spec.initContainers ?? []),
];

/**
 * A container's environment as the kubelet builds it: envFrom sources in order, then `env` over
 * them; the Secret's placeholders replaced by what an operator sets. Over the image's own ENV.
 */
function containerEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = { ...dockerfileEnv() };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      Object.assign(env, named('ConfigMap', source.configMapRef.name).data);
    } else if (source.secretRef) {
      const secret = secretExample.find((object) => object.metadata.name === source.secretRef?.name);
      if (!secret)
        throw new Error(`${container.name}: no Secret ${source.secretRef.name} in secret.example.yaml`);
      for (const key of Object.keys({ ...secret.data, ...secret.stringData })) env[key] = operatorValue(key);
    } else {
      throw new Error(`${container.name}: an envFrom source the test does not read`);
    }
  }
  for (const variable of container.env ?? []) {
    if (variable.value === undefined)
      throw new Error(`${container.name}: ${variable.name} has no literal value`);
    env[variable.name] = variable.value;
  }
  return env;
}

const workloadContainers = workloads.flatMap((workload) =>
  containersOf(workload).map((container): [string, Workload, Container] => [
    `${workload.kind} ${workload.metadata.name}/${container.name}`,
    workload,
    container,
  ]),
);

const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const podLabels = (workload: Workload) => workload.spec.template.metadata?.labels ?? {};

/** Every name a Secret or ConfigMap in deploy/k8s gives the pods, with where it is set. */
const envNames: [string, string][] = [
  ...ofKind('ConfigMap').flatMap((map) =>
    Object.keys(map.data ?? {}).map((n): [string, string] => [map.metadata.name, n]),
  ),
  ...secretExample.flatMap((secret) =>
    Object.keys({ ...secret.data, ...secret.stringData }).map((n): [string, string] => [
      secret.metadata.name,
      n,
    ]),
  ),
  ...workloadContainers.flatMap(([where, , container]) =>
    (container.env ?? []).map((variable): [string, string] => [where, variable.name]),
  ),
];

describe('deploy/k8s: the manifests', () => {
  it('renders the objects of a full deployment', () => {
    expect(rendered.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'ConfigMap/tierbase-config',
      'Deployment/tierbase-api',
      'Deployment/tierbase-worker',
      'HorizontalPodAutoscaler/tierbase-api',
      'Ingress/tierbase',
      'Job/tierbase-migrate',
      'Namespace/tierbase',
      'PodDisruptionBudget/tierbase-api',
      'PodDisruptionBudget/tierbase-worker',
      'Service/tierbase-api',
      'ServiceAccount/tierbase',
    ]);
  });

  it.each(
    [...rendered, ...secretExample].map((object): [string, K8sObject] => [
      `${object.kind}/${object.metadata.name}`,
      object,
    ]),
  )('%s: valid against the schema of its apiVersion and kind', async (_name, object) => {
    const model = await schemaModel(object.apiVersion, object.kind);
    expect(() => new model(object).validate()).not.toThrow();
  });

  it('sets no field its kind does not have (a misspelt key is an error, not ignored)', () => {
    // The JSON schemas let unknown fields through, as the API server does (it drops them with a
    // warning). The kinds' TypeScript interfaces, from the same OpenAPI, do not: tsc's check of
    // each object as a literal of its interface reports any field the kind lacks.
    const dir = fs.mkdtempSync(path.join(repoRoot, 'node_modules', '.deploy-k8s-'));
    try {
      const objects = [...rendered, ...secretExample];
      // One object per block; the first line of each, to name the object an error is in.
      const firstLines: [number, string][] = [];
      let line = 1;
      const source = objects
        .map((object, index) => {
          const block =
            `import type { I${object.kind} as T${index} } from 'kubernetes-models/${object.apiVersion}/${object.kind}';\n` +
            `export const o${index}: T${index} = ${JSON.stringify(object, null, 2)};\n`;
          firstLines.push([line, `${object.kind}/${object.metadata.name}`]);
          line += block.split('\n').length - 1;
          return block;
        })
        .join('');
      const file = path.join(dir, 'manifests.ts');
      fs.writeFileSync(file, source);
      const result = spawnSync(
        process.execPath,
        [
          path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
          ...['--ignoreConfig', '--noEmit', '--strict', '--skipLibCheck', '--types', 'node'],
          ...['--module', 'nodenext', '--moduleResolution', 'nodenext', file],
        ],
        { encoding: 'utf8' },
      );
      const errors = `${result.stdout}${result.stderr}`
        .split('\n')
        .filter(Boolean)
        .map((message) => {
          const [, at, text] = message.match(/manifests\.ts\((\d+),\d+\): (.*)$/) ?? [];
          const object = firstLines.findLast(([first]) => first <= Number(at))?.[1];
          return object ? `${object}: ${text}` : message;
        });
      expect(errors).toEqual([]);
      expect(result.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kubectl kustomize renders the same objects as the test does', (context) => {
    const kubectl = findKubectl();
    if (!kubectl) {
      console.warn('skipped: kubectl is not installed (the test renders the kustomization itself)');
      context.skip();
      return;
    }
    const output = execFileSync(kubectl, ['kustomize', K8S], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const byKey = (objects: K8sObject[]) =>
      Object.fromEntries(objects.map((object) => [`${object.kind}/${object.metadata.name}`, object]));
    expect(byKey(parseAllDocuments(output).map((document) => document.toJS() as K8sObject))).toEqual(
      byKey(rendered),
    );
  });

  it("every container runs the image kustomize sets, in the image's working directory", () => {
    const [image] = kustomization.images ?? [];
    expect(image?.newName).toBeDefined();
    for (const [where, , container] of workloadContainers) {
      expect(container.image, where).toBe(`${image?.newName}:${image?.newTag}`);
      expect(container.workingDir, where).toBeUndefined();
    }
    expect(dockerfile).toMatch(/\nWORKDIR \/app\n(?![\s\S]*\nWORKDIR )/);
  });

  it('every file a container starts is an entry point of the API build', () => {
    const cmd = apiStage.match(/^CMD (\[.*\])$/m)?.[1];
    const imageCommand = JSON.parse(cmd ?? '[]') as string[];
    const built = builtEntryPoints();
    const distBuilt = exists('apps/api/dist/server.js');
    for (const [where, , container] of workloadContainers) {
      const command = [...(container.command ?? imageCommand), ...(container.args ?? [])];
      expect(command[0], where).toBe('node');
      const [, entry] = command[1]?.match(/^apps\/api\/dist\/([\w-]+)\.js$/) ?? [];
      expect(entry && built.has(entry), `${where}: ${command[1]} is not built by apps/api/build.mjs`).toBe(
        true,
      );
      // After `npm run build` (as in CI), the file itself.
      if (distBuilt) expect(exists(command[1] ?? ''), `${where}: ${command[1]}`).toBe(true);
    }
    expect(dockerfile).toContain('COPY --from=build /app/apps/api/dist ./apps/api/dist');
  });
});

describe('deploy/k8s: the environment', () => {
  it('sets only variables the API reads and .env.example documents', () => {
    expect(envNames.length).toBeGreaterThan(10);
    for (const [where, name] of envNames) {
      expect(readByConfig.has(name), `${where}: ${name} is not read by config.ts`).toBe(true);
      expect(documented.has(name), `${where}: ${name} is not in .env.example`).toBe(true);
    }
  });

  it('the workloads name the ConfigMap and the Secret that hold their variables', () => {
    for (const [where, , container] of workloadContainers) {
      const sources = (container.envFrom ?? []).map(
        (source) => source.configMapRef?.name ?? source.secretRef?.name,
      );
      expect(sources, where).toEqual(['tierbase-config', 'tierbase-secrets']);
    }
    expect(secretExample.map((secret) => secret.metadata.name)).toEqual(['tierbase-secrets']);
    // Placeholders only: real secrets never go in the repository.
    for (const value of Object.values(secretExample[0]?.stringData ?? {})) expect(value).toBe('REPLACE_ME');
  });

  it.each(workloadContainers)(
    '%s: loads with the real loadConfig, in production',
    (_where, _workload, container) => {
      const config = loadConfig(containerEnv(container));
      expect(config.isProduction).toBe(true);
      expect(config.trustedProxies.length).toBeGreaterThan(0);
      expect(trustProblems(config.trustedProxies)).toEqual([]);
      // Nothing on the read-only root file system: a server database, and no local Stripe emulator
      // (both of which write to DATA_DIR).
      expect(config.databaseUrl).toBeDefined();
      expect(config.stripe.emulator).toBe(false);
    },
  );

  it('the API pods serve requests only; the worker pods run the jobs', () => {
    const roleOf = (name: string) =>
      containersOf(named<Workload>('Deployment', name)).map(
        (container) => loadConfig(containerEnv(container)).processRole,
      );
    expect(roleOf('tierbase-api')).toEqual(['api']);
    expect(roleOf('tierbase-worker')).toEqual(['worker']);
  });

  it("the migration Job runs the CLI's migrate command, once", () => {
    const job = named<Workload>('Job', 'tierbase-migrate');
    const [container, ...others] = containersOf(job);
    expect(others).toEqual([]);
    expect(container?.command).toEqual(['node', 'apps/api/dist/cli.js', 'migrate']);
    expect(read('apps/api/src/cli.ts')).toMatch(/^ {2}migrate: \{/m);
    expect(job.spec.template.spec).toMatchObject({ restartPolicy: 'Never' });
  });
});

describe('deploy/k8s: probes and shutdown', () => {
  let test: TestApp;
  beforeAll(async () => {
    test = await createTestApp({ workers: false });
  });
  afterAll(async () => {
    await test?.close();
  });

  const probed = deployments.flatMap((deployment) =>
    containersOf(deployment).map((container): [string, Container] => [
      `${deployment.metadata.name}/${container.name}`,
      container,
    ]),
  );

  it.each(probed)('%s: probes paths the app answers, on its port', async (where, container) => {
    const config = loadConfig(containerEnv(container));
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
      const httpGet = container[probe]?.httpGet;
      expect(httpGet, `${where}: ${probe}`).toBeDefined();
      const port = container.ports?.find(
        (candidate) => candidate.name === httpGet?.port || candidate.containerPort === httpGet?.port,
      );
      expect(port?.containerPort, `${where}: ${probe} port`).toBe(config.port);
      const response = await test.app.inject({ url: httpGet?.path ?? '' });
      expect(response.statusCode, `${where}: ${probe} GET ${httpGet?.path}`).toBe(200);
    }
  });

  it.each(probed)(
    '%s: readiness fails while the pod drains; liveness and startup do not (no restart)',
    async (where, container) => {
      test.app.draining = true;
      try {
        const status = async (probe: Probe | undefined) =>
          (await test.app.inject({ url: probe?.httpGet?.path ?? '' })).statusCode;
        expect(await status(container.readinessProbe), where).toBe(503);
        expect(await status(container.livenessProbe), where).toBe(200);
        expect(await status(container.startupProbe), where).toBe(200);
      } finally {
        test.app.draining = false;
      }
    },
  );

  it.each(deployments.map((deployment): [string, Workload] => [deployment.metadata.name, deployment]))(
    '%s: the grace period outlasts the shutdown delay and the drain',
    (_name, deployment) => {
      // The server's own limit on the drain (src/serve.ts), after which it exits by itself.
      const [, drainMs] = read('apps/api/src/serve.ts').match(/const SHUTDOWN_TIMEOUT_MS = ([\d_]+);/) ?? [];
      const drainSeconds = Number(drainMs?.replaceAll('_', '')) / 1000;
      expect(drainSeconds).toBeGreaterThan(0);
      const grace = deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      for (const container of containersOf(deployment)) {
        const config: Config = loadConfig(containerEnv(container));
        expect(grace, container.name).toBeGreaterThan(config.shutdownDelaySeconds + drainSeconds);
      }
    },
  );

  it('the API pods wait SHUTDOWN_DELAY_SECONDS before closing, for endpoints to drop them', () => {
    for (const container of containersOf(named<Workload>('Deployment', 'tierbase-api'))) {
      expect(loadConfig(containerEnv(container)).shutdownDelaySeconds).toBeGreaterThanOrEqual(5);
    }
  });
});

describe('deploy/k8s: routing, scaling and disruption', () => {
  const api = named<Workload>('Deployment', 'tierbase-api');
  const worker = named<Workload>('Deployment', 'tierbase-worker');

  it("each Deployment selects its own pods and no other workload's", () => {
    for (const deployment of deployments) {
      const selector = deployment.spec.selector?.matchLabels ?? {};
      expect(selects(selector, podLabels(deployment)), deployment.metadata.name).toBe(true);
      for (const other of workloads.filter((candidate) => candidate !== deployment)) {
        expect(
          selects(selector, podLabels(other)),
          `${deployment.metadata.name} selects ${other.metadata.name}`,
        ).toBe(false);
      }
    }
  });

  it('the Service routes to the API pods only, on their HTTP port', () => {
    const service = named('Service', 'tierbase-api');
    expect(selects(service.spec.selector, podLabels(api))).toBe(true);
    expect(selects(service.spec.selector, podLabels(worker))).toBe(false);
    for (const port of service.spec.ports as { targetPort: string | number }[]) {
      const container = api.spec.template.spec.containers.find((candidate) =>
        candidate.ports?.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort),
      );
      expect(container, `targetPort ${port.targetPort}`).toBeDefined();
    }
  });

  it("the Ingress sends every path to the Service, with the API's body limit", () => {
    const ingress = named('Ingress', 'tierbase');
    const service = named('Service', 'tierbase-api');
    const backends = (
      ingress.spec.rules as {
        http: {
          paths: {
            path: string;
            backend: { service: { name: string; port: { name?: string; number?: number } } };
          }[];
        };
      }[]
    ).flatMap((rule) => rule.http.paths);
    expect(backends.map((path) => path.path)).toContain('/');
    for (const { backend } of backends) {
      expect(backend.service.name).toBe(service.metadata.name);
      const ports = service.spec.ports as { name: string; port: number }[];
      expect(
        ports.some(
          (port) => port.name === backend.service.port.name || port.port === backend.service.port.number,
        ),
      ).toBe(true);
    }
    const size = ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-body-size'] ?? '';
    const [, megabytes] = size.match(/^(\d+)m$/) ?? [];
    const config = loadConfig(containerEnv(api.spec.template.spec.containers[0] as Container));
    expect(Number(megabytes) * 1024 * 1024).toBe(config.bodyLimitBytes);
  });

  it('a PodDisruptionBudget covers each Deployment, selecting its pods only', () => {
    const budgets = ofKind('PodDisruptionBudget');
    for (const deployment of deployments) {
      const covering = budgets.filter((budget) =>
        selects(budget.spec.selector.matchLabels, podLabels(deployment)),
      );
      expect(
        covering.map((budget) => budget.metadata.name),
        deployment.metadata.name,
      ).toEqual([deployment.metadata.name]);
      expect(covering[0]?.spec.maxUnavailable ?? 0, deployment.metadata.name).toBeGreaterThan(0);
    }
  });

  it('the HorizontalPodAutoscaler scales the API Deployment on CPU, which the pods request', () => {
    const hpas = ofKind('HorizontalPodAutoscaler');
    expect(hpas.map((hpa) => hpa.spec.scaleTargetRef)).toEqual([
      { apiVersion: api.apiVersion, kind: 'Deployment', name: api.metadata.name },
    ]);
    const [hpa] = hpas;
    expect(hpa?.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa?.spec.metrics).toContainEqual(
      expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }),
    );
    // Utilization is a share of the request: without one the HPA cannot compute it.
    for (const container of api.spec.template.spec.containers) {
      expect(container.resources?.requests?.cpu, container.name).toBeDefined();
    }
    // The HPA owns the replica count; a `replicas` here would reset it on every apply.
    expect(api.spec.replicas).toBeUndefined();
  });
});

describe('deploy/k8s: security', () => {
  it.each(workloadContainers)(
    '%s: runs as non-root, read-only, with no privileges',
    (_where, workload, container) => {
      const pod = workload.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      // The image's user is a name (`USER node`): the kubelet can only check a numeric uid.
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(dockerfile).toMatch(/^USER node$/m);
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.resources?.limits?.memory).toBeDefined();
    },
  );
});

/** The kubernetes-models class for an apiVersion and kind; it validates with the kind's JSON schema. */
async function schemaModel(
  apiVersion: string,
  kind: string,
): Promise<new (data: unknown) => { validate(): void }> {
  try {
    const specifier = `kubernetes-models/${apiVersion}/${kind}`;
    const module = (await import(/* @vite-ignore */ specifier)) as Record<
      string,
      new (
        data: unknown,
      ) => { validate(): void }
    >;
    const model = module[kind];
    if (model) return model;
  } catch {
    // Reported below.
  }
  throw new Error(`no schema for ${apiVersion} ${kind}: not a Kubernetes kind`);
}

function findKubectl(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
