/**
 * deploy/k8s, the Dockerfile and docker-compose.yml, validated without a cluster or a Docker
 * engine: Kubernetes objects against the API schemas (kubernetes-models: construct + validate),
 * the Dockerfile with dockerfile-utils' linter, docker-compose.yml with `docker-compose config`
 * (Debian's docker-compose package; the test says so and is skipped where it is not installed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { validate as lintDockerfile, ValidationSeverity } from 'dockerfile-utils';
import { validateScenario } from '../../src/scenario/validate.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const K8S = join(ROOT, 'deploy/k8s');

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
};

function objects(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as Obj;
  });
}
const all = () => readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap(objects);
const find = (kind: string, name: string) => all().find((o) => o.kind === kind && o.metadata.name === name) as Obj & { spec: any; data?: Record<string, string> };
const envOf = (c: { env: { name: string; value: string }[] }) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));

describe('deploy/k8s', () => {
  it('holds only objects that validate against the Kubernetes schemas', () => {
    const objs = all();
    expect(objs.length).toBeGreaterThanOrEqual(8);
    for (const o of objs) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has a schema here`).toBeDefined();
      expect(() => new (Model as new (o: Obj) => { validate(): void })(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('the validator refuses a broken Job (the check can fail)', () => {
    const job = structuredClone(find('Job', 'chatstorm-shards'));
    job.spec.completions = 'four';
    expect(() => new Job(job as never).validate()).toThrow(/completions must be integer/);
  });

  it('lists every manifest but the merge Job in the kustomization', () => {
    const k = parseAllDocuments(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as { resources: string[] };
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== 'merge-job.yaml');
    expect([...k.resources].sort()).toEqual(files.sort());
  });

  it('runs one pod per shard: an Indexed Job whose SHARDS is its completion count', () => {
    const job = find('Job', 'chatstorm-shards');
    expect(job.spec.completionMode).toBe('Indexed');
    const c = job.spec.template.spec.containers[0];
    const env = envOf(c);
    expect(Number(env['SHARDS'])).toBe(job.spec.completions);
    expect(c.args.join(' ')).toMatch(/--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$SHARDS"/);
    // Every container asks for what it needs.
    for (const o of all()) {
      const spec = (o as any).spec?.template?.spec;
      for (const ct of spec?.containers ?? []) expect(ct.resources?.requests?.cpu && ct.resources?.requests?.memory, `${o.metadata.name}/${ct.name}`).toBeTruthy();
    }
  });

  it('gives each shard a whole core and no CPU limit, whose throttling would be harness lag (docs/distributed.md, Sizing)', () => {
    const c = find('Job', 'chatstorm-shards').spec.template.spec.containers[0];
    expect(c.resources.requests.cpu).toBe('1');
    expect(c.resources.limits?.cpu).toBeUndefined();
  });

  it('shares one results volume between the shards and the merge, for the same run id', () => {
    const shards = find('Job', 'chatstorm-shards');
    const merge = find('Job', 'chatstorm-merge');
    const claim = (j: any) => j.spec.template.spec.volumes.find((v: any) => v.persistentVolumeClaim).persistentVolumeClaim.claimName;
    expect(claim(shards)).toBe('chatstorm-results');
    expect(claim(merge)).toBe('chatstorm-results');
    expect(find('PersistentVolumeClaim', 'chatstorm-results').spec.accessModes).toContain('ReadWriteMany');
    const a = envOf(shards.spec.template.spec.containers[0]);
    const b = envOf(merge.spec.template.spec.containers[0]);
    expect(b['RUN_ID']).toBe(a['RUN_ID']);
    expect(b['RESULTS_DIR']).toBe(a['RESULTS_DIR']);
  });

  it('mounts a valid scenario from the ConfigMap where the shards read it', () => {
    const cm = find('ConfigMap', 'chatstorm-scenario');
    const job = find('Job', 'chatstorm-shards');
    const mount = job.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'scenario').mountPath;
    const scenarioPath = envOf(job.spec.template.spec.containers[0])['SCENARIO'] as string;
    expect(scenarioPath.startsWith(mount + '/')).toBe(true);
    const text = cm.data?.[scenarioPath.slice(mount.length + 1)] as string;
    // The file is `export default { ... }`: evaluate the object and validate it as a scenario.
    const scenario = new Function(text.replace(/^\s*export default/m, 'return').replace(/;\s*$/, ''))();
    expect(() => validateScenario(scenario)).not.toThrow();
  });

  it('runs the real Toxiproxy behind a headless Service (proxies listen on run-time ports)', () => {
    const d = find('Deployment', 'toxiproxy');
    expect(d.spec.template.spec.containers[0].image).toMatch(/^ghcr\.io\/shopify\/toxiproxy:\d/);
    expect(find('Service', 'toxiproxy').spec.clusterIP).toBe('None');
    expect(envOf(find('Job', 'chatstorm-shards').spec.template.spec.containers[0])['TOXIPROXY_URL']).toBe('http://toxiproxy:8474');
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  it('passes the dockerfile-utils linter without errors or warnings', () => {
    const problems = lintDockerfile(text).filter((d) => d.severity === ValidationSeverity.ERROR || d.severity === ValidationSeverity.WARNING);
    expect(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });
  it('the linter finds a broken Dockerfile (the check can fail)', () => {
    expect(lintDockerfile('FROM node:20\nEXPOSE notaport\nCOPY\n').length).toBeGreaterThan(0);
  });
  it('is multi-stage, runs as a non-root user, with the CLI as entrypoint', () => {
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^COPY --from=deps /m);
    const users = text.match(/^USER (\S+)/gm) ?? [];
    expect(users.at(-1)).not.toMatch(/USER (root|0)$/);
    expect(text).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/chatstorm\.js"\]/m);
  });
  it('copies in everything the CLI loads, and .dockerignore keeps none of it out', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const need of ['bin', 'src', 'scenarios', 'package.json', 'package-lock.json']) {
      expect(text).toMatch(new RegExp(`^COPY .*\\b${need.replace('.', '\\.')}\\b`, 'm'));
      expect(ignored).not.toContain(need);
    }
  });
});

const compose = (() => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('docker-compose.yml', () => {
  it.skipIf(!compose)('is valid for `docker-compose config` (Debian: apt-get install docker-compose)', () => {
    const out = execFileSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8' });
    const cfg = parseAllDocuments(out)[0]?.toJS() as any;
    // The harness waits for a healthy server; both use the built image, neither installs at start.
    expect(cfg.services.harness.depends_on.server.condition).toBe('service_healthy');
    expect(cfg.services.server.healthcheck.test.length).toBeGreaterThan(0);
    for (const s of ['server', 'harness']) {
      expect(JSON.stringify(cfg.services[s].command ?? [])).not.toMatch(/npm (ci|install)/);
      expect(cfg.services[s].image).toBe('chatstorm:local');
    }
    expect(cfg.services.toxiproxy.image).toMatch(/^ghcr\.io\/shopify\/toxiproxy:/);
  });
  it.skipIf(!compose)('has an `incident` profile running cross-border-peak without the loss extension against the real Toxiproxy', () => {
    const out = execFileSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), '--profile', 'incident', 'config'], { encoding: 'utf8' });
    const cfg = parseAllDocuments(out)[0]?.toJS() as any;
    const incident = cfg.services.incident;
    expect(incident.depends_on.server.condition).toBe('service_healthy');
    expect(incident.command).toContain('/app/scenarios/cross-border-peak-toxiproxy.ts');
    expect(incident.command).toContain('http://toxiproxy:8474');
    // The scenario it names exists (the image copies scenarios/ to /app/scenarios).
    expect(existsSync(join(ROOT, 'scenarios', 'cross-border-peak-toxiproxy.ts'))).toBe(true);
  });
  it.skipIf(!compose)('`docker-compose config` refuses a broken file (the check can fail)', () => {
    expect(() => execFileSync('docker-compose', ['-f', '-', 'config'], { input: 'services:\n  x:\n    depends_on: {y: {condition: nope}}\n', stdio: ['pipe', 'ignore', 'ignore'] })).toThrow();
  });
  it('has no bind-mounted source folder shared by services', () => {
    expect(existsSync(join(ROOT, 'docker-compose.yml'))).toBe(true);
    expect(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')).not.toMatch(/"\.:\/app"|- \.:\/app/);
  });
});
