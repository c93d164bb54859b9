/**
 * The Kubernetes Indexed Job without a cluster: its exact container command, run N times
 * (N = .spec.completions) as local processes with JOB_COMPLETION_INDEX set, over one shared
 * results folder, against a chat server and one Toxiproxy API shared by all (as the Deployment
 * and Service are); then the merge Job's exact command; then the merged verdict.
 * Paths and addresses that differ off-cluster come from the manifests' own env variables.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startChild, type ChildService } from '../../src/net/child.ts';
import { buildPlan } from '../../src/plan/plan.ts';
import { validateScenario } from '../../src/scenario/validate.ts';
import type { MergedSummary } from '../../src/merge/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
type Container = { command: string[]; args: string[]; env: { name: string; value: string }[] };
type JobDoc = { spec: { completions?: number; template: { spec: { containers: Container[] } } } };

async function manifest<T>(file: string): Promise<T> {
  return parseAllDocuments(await readFile(join(ROOT, 'deploy/k8s', file), 'utf8'))[0]?.toJS() as T;
}

function sh(c: Container, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(c.command[0] as string, [...c.command.slice(1), ...c.args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('deploy/k8s Indexed Job, run as local processes', () => {
  let work: string;
  const services: ChildService[] = [];
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'chatstorm-k8s-'));
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await rm(work, { recursive: true, force: true });
  });

  it('runs every shard with the Job’s command, merges with the merge Job’s command, and passes', async () => {
    const shards = await manifest<JobDoc>('shards-job.yaml');
    const merge = await manifest<JobDoc>('merge-job.yaml');
    const cm = await manifest<{ data: Record<string, string> }>('configmap.yaml');
    const shardC = shards.spec.template.spec.containers[0] as Container;
    const mergeC = merge.spec.template.spec.containers[0] as Container;
    const n = shards.spec.completions as number;

    // The ConfigMap's files where the pod would see them, `chatstorm` on the PATH as in the image.
    await mkdir(join(work, 'etc'));
    for (const [file, text] of Object.entries(cm.data)) await writeFile(join(work, 'etc', file), text);
    await mkdir(join(work, 'bin'));
    await writeFile(join(work, 'bin', 'chatstorm'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/chatstorm.js')}" "$@"\n`);
    await chmod(join(work, 'bin', 'chatstorm'), 0o755);
    const server = await startChild(['serve', '--port', '0', '--store', 'memory'], /listening on (ws:\/\/\S+)/, 'reference chat server');
    services.push(server);
    const toxiproxy = await startChild(['proxy', '--port', '0'], /listening on (http:\/\/\S+)/, 'Toxiproxy API');
    services.push(toxiproxy);

    const podEnv = (c: Container, extra: Record<string, string>) => {
      const env: Record<string, string> = { PATH: `${join(work, 'bin')}:${process.env.PATH}`, HOME: work };
      for (const e of c.env) env[e.name] = e.value;
      const scenarioFile = env['SCENARIO']?.split('/').pop();
      return { ...env, ...(scenarioFile ? { SCENARIO: join(work, 'etc', scenarioFile) } : {}), RESULTS_DIR: join(work, 'results'), TARGET: server.url, TOXIPROXY_URL: toxiproxy.url, ...extra };
    };
    // Four pods on this 2-core machine share the cores with the server and the proxy: their delay
    // figures are not honest (the harness's own lag), and this test is about the Job, not delays.
    const pods = await Promise.all(Array.from({ length: n }, (_, i) => sh(shardC, podEnv(shardC, { JOB_COMPLETION_INDEX: String(i), EXTRA_ARGS: '--allow-harness-lag' }))));
    pods.forEach((p, i) => expect(p.code, `pod ${i}: ${p.stderr}`).toBe(0));

    const m = await sh(mergeC, podEnv(mergeC, {}));
    expect(m.code, m.stderr).toBe(0);
    const runId = mergeC.env.find((e) => e.name === 'RUN_ID')?.value as string;
    const summary = JSON.parse(await readFile(join(work, 'results', runId, 'merged', 'summary.json'), 'utf8')) as MergedSummary;
    expect(summary.verdict).toBe('pass');
    expect(summary.shards.map((s) => [s.shard, s.verdict, s.merged])).toEqual(Array.from({ length: n }, (_, i) => [`${i + 1}/${n}`, 'pass', true]));
    // Together the shards sent the whole plan.
    const scenario = new Function((cm.data['scenario.mts'] as string).replace(/^\s*export default/m, 'return').replace(/;\s*$/, ''))();
    const whole = buildPlan(validateScenario(scenario));
    expect(summary.checks['loss']?.metrics?.['messages']).toBe(whole.sends.length);
    // Every shard removed its proxies from the shared Toxiproxy.
    expect(Object.keys((await (await fetch(`${toxiproxy.url}/proxies`)).json()) as object)).toEqual([]);
  }, 240_000);
});
