// The handoff to the trainers, on a real demo run and a live grpo process: one prompt everywhere, the prompt set in the
// exchange, no 0-row file, a truthful run.json, and scoring of any exported prompt row by verl's and OpenRLHF's call shapes.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphTokens, groupDiversity } from '../rewards/diversity.ts';
import { RewardSchema } from '../rewards/config-schema.ts';
import { tokenizerIdentity, snapshotRevision } from '../grpo/tokenizer-identity.ts';
import { verlScorer, openRlhfScorer } from '../grpo/score-routes.ts';
import type { RemoteScoreDeps } from '../grpo/remote-scorer.ts';
import { createTaskResolver } from '../grpo/task-resolver.ts';
import { startExchangeServer } from '../grpo/exchange/http-server.ts';
import type { Task } from '../datasets/task.ts';
import { demoRun, runTrainerPython } from './helpers/trainer-python.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

type Msg = { role: string; content: string };

async function parquetRows(file: string): Promise<Array<Record<string, unknown>>> {
  const buf = readFileSync(file);
  return (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer })) as Array<Record<string, unknown>>;
}

function jsonl(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The prompt of an RL row as plain {role, content} objects in file order, for a byte-for-byte JSON comparison. */
const promptOf = (row: Record<string, unknown>): string => JSON.stringify((row.prompt as Msg[]).map((m) => ({ role: m.role, content: m.content })));
const uidOf = (row: Record<string, unknown>): string => String((row.extra_info as { prompt_uid: string }).prompt_uid);

function rolloutRows(root: string): Promise<Array<Record<string, unknown>>> {
  const dir = path.join(root, 'rollouts');
  const steps = readdirSync(dir).filter((d) => existsSync(path.join(dir, d, '_SUCCESS')));
  return Promise.all(steps.flatMap((s) => readdirSync(path.join(dir, s)).filter((f) => f.endsWith('.parquet')).map((f) => parquetRows(path.join(dir, s, f))))).then((x) => x.flat());
}

let demo = '';
beforeAll(async () => {
  demo = await demoRun();
}, 300_000);

describe('one prompt for SFT, the RL prompt files and GRPO sampling', () => {
  it('sends the policy the system and user messages SFT trained on and the RL Parquet holds, byte for byte', async () => {
    const sftSamples = jsonl(path.join(demo, 'sft', 'train.messages.jsonl'));
    const sftRl = new Map((await parquetRows(path.join(demo, 'sft', 'rl', 'train.parquet'))).map((r) => [uidOf(r), promptOf(r)]));
    const exchangeRl = new Map((await parquetRows(path.join(demo, 'exchange', 'datasets', 'rl', 'train.parquet'))).map((r) => [uidOf(r), promptOf(r)]));
    expect(sftSamples.length).toBeGreaterThan(0);
    // SFT sample → its RL prompt row: the same two messages.
    for (const s of sftSamples) {
      const head = JSON.stringify((s.messages as Msg[]).slice(0, 2).map((m) => ({ role: m.role, content: m.content })));
      expect(sftRl.get(String(s.id)), String(s.id)).toBe(head);
    }
    // The SFT export's prompt set and the exchange's agree on every query they share (and they share some).
    const shared = [...sftRl.keys()].filter((k) => exchangeRl.has(k));
    expect(shared.length, 'the demo distils and trains on overlapping queries').toBeGreaterThan(0);
    for (const k of shared) expect(exchangeRl.get(k), k).toBe(sftRl.get(k));
    // What GRPO sent the policy (the conversation recorded with each rollout) starts with the exchange's prompt row.
    const rows = await rolloutRows(path.join(demo, 'exchange'));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      const sent = JSON.parse(String(r.messages_json)) as Msg[];
      expect(JSON.stringify(sent.slice(0, 2).map((m) => ({ role: m.role, content: m.content }))), String(r.prompt_uid)).toBe(exchangeRl.get(String(r.prompt_uid)));
      expect(sent[0]?.role).toBe('system');
    }
    // Task-independent: the system text is one string everywhere.
    const systems = new Set([...sftSamples.map((s) => (s.messages as Msg[])[0]?.content), ...rows.map((r) => (JSON.parse(String(r.messages_json)) as Msg[])[0]?.content)]);
    expect(systems.size).toBe(1);
  });
});

describe('files a trainer is pointed at', () => {
  it('writes the prompt set into the exchange (datasets/rl/) and never a 0-row file; the summaries say which split is empty', async () => {
    const rl = path.join(demo, 'exchange', 'datasets', 'rl');
    expect(readdirSync(rl)).toEqual(['train.parquet']);
    expect((await parquetRows(path.join(rl, 'train.parquet'))).length).toBe(40);
    const summary = JSON.parse(readFileSync(path.join(demo, 'grpo', 'summary.json'), 'utf8')) as { promptSet: Array<{ split: string; rows: number }> };
    expect(summary.promptSet.map((p) => [p.split, p.rows])).toEqual([
      ['train', 40],
      ['validation', 0],
    ]);
    // The demo's 6 queries all land in train: no val.* file, and stats.json lists each one skipped.
    const stats = JSON.parse(readFileSync(path.join(demo, 'sft', 'stats.json'), 'utf8')) as { files: Array<{ path: string; rows: number }>; skipped: Array<{ path: string; reason: string }>; warnings: string[] };
    expect(stats.files.every((f) => f.rows > 0)).toBe(true);
    expect(stats.skipped.map((s) => s.path)).toContain('val.messages.jsonl');
    expect(stats.skipped.map((s) => s.path)).toContain('rl/val.parquet');
    expect(stats.warnings.join('\n')).toMatch(/no val\.\* SFT file was written/);
    for (const s of stats.skipped) expect(existsSync(path.join(demo, 'sft', s.path)), s.path).toBe(false);
    const info = JSON.parse(readFileSync(path.join(demo, 'sft', 'dataset_info.json'), 'utf8')) as Record<string, { file_name: string }>;
    expect(Object.keys(info).some((k) => k.endsWith('_val'))).toBe(false);
    for (const [name, entry] of Object.entries(info)) expect(existsSync(path.join(demo, 'sft', entry.file_name)), name).toBe(true);
    // Every data file in the run has rows.
    for (const f of stats.files.filter((x) => x.path !== 'dataset_info.json')) {
      const file = path.join(demo, 'sft', f.path);
      const rows = f.path.endsWith('.parquet') ? (await parquetRows(file)).length : f.path.endsWith('.jsonl') ? jsonl(file).length : (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length;
      expect(rows, f.path).toBe(f.rows);
    }
  });

  it('run.json has no tokenizer identity it cannot back: null without a tokenizer', () => {
    const run = JSON.parse(readFileSync(path.join(demo, 'exchange', 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(run.tokenizer_revision).toBeNull();
    expect(run.chat_template_sha256).toBeNull();
  });
});

describe('tokenizer identity in run.json', () => {
  const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

  it('hashes the chat template the tokenizer config holds, prefers chat_template.jinja, reads a cache snapshot revision', async () => {
    const commit = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
    const dir = path.join(await tmpDir(), 'hub', 'models--org--m', 'snapshots', commit);
    await mkdir(dir, { recursive: true });
    const template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";
    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: template, model_max_length: 4096 }));
    expect(await tokenizerIdentity(dir, undefined)).toEqual({ tokenizer_revision: commit, chat_template_sha256: sha(template) });
    expect(await tokenizerIdentity(path.join(dir, 'tokenizer_config.json'), 'v1.2')).toEqual({ tokenizer_revision: 'v1.2', chat_template_sha256: sha(template) });
    expect(snapshotRevision('/models/plain')).toBeNull();
    // A list of named templates: the "default" one is what transformers applies without a name.
    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }));
    expect((await tokenizerIdentity(dir, undefined)).chat_template_sha256).toBe(sha('D'));
    await writeFile(path.join(dir, 'chat_template.jinja'), 'J');
    expect((await tokenizerIdentity(dir, undefined)).chat_template_sha256).toBe(sha('J'));
    // No template at all: null, not the hash of something else.
    const bare = await tmpDir();
    await writeFile(path.join(bare, 'tokenizer_config.json'), '{}');
    expect(await tokenizerIdentity(bare, undefined)).toEqual({ tokenizer_revision: null, chat_template_sha256: null });
    await expect(tokenizerIdentity(path.join(bare, 'missing'), undefined)).rejects.toThrow(/not found/);
  });
});

/** A grpo process that commits step 0 and then waits for a trainer that never comes, serving the exchange meanwhile. */
interface LiveGrpo {
  child: ChildProcess;
  url: string;
  out: string;
  stderr: () => string;
}

async function startLiveGrpo(extra: string[], env: Record<string, string>): Promise<LiveGrpo> {
  const out = path.join(await tmpDir(), 'live');
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', 'pipeline/cli/main.ts', 'grpo', '--config', 'configs/demo.yaml', '--out', out, '--no-cache',
      '--set', 'grpo.trainer.referenceConsumer=false', '--set', 'grpo.steps=2', '--set', 'grpo.policy.waitTimeoutS=900',
      '--set', 'sim.latency.fixedMs=2', '--set', 'sim.latency.perTokenMs=0', '--set', 'sim.faults.rateLimit.p=0', '--set', 'sim.faults.serverError.p=0',
      ...extra,
    ],
    { cwd: repoRoot, env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`grpo did not serve the exchange in time:\n${stderr.slice(-3000)}`)), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /HTTP (http:\/\/\S+)/.exec(stdout);
      if (m?.[1] !== undefined) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`grpo exited (${code}) before serving:\n${stderr.slice(-3000)}`)));
  });
  return { child, url, out, stderr: () => stderr };
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** A tagged reply built from a distilled round: what a policy trained on our SFT files answers. */
function replyOf(round: { modification?: string; graph: string; prompt: string }): string {
  return `<modification>${round.modification ?? 'a change'}</modification>\n<graph>\n${round.graph}\n</graph>\n<prompt>\n${round.prompt}\n</prompt>`;
}

describe('scoring any exported prompt row, as verl and OpenRLHF call it', () => {
  const TOKEN = 'handoff-token-4242';
  let live: LiveGrpo;
  let tokDir = '';
  let singleCall = '';
  let multiCall = '';
  let multiGraph = '';
  let singleGraph = '';

  beforeAll(async () => {
    tokDir = await tmpDir();
    await writeFile(path.join(tokDir, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages }}' }));
    // A one-operator workflow and a several-operator one, from the demo's distilled rounds.
    const rounds = jsonl(path.join(demo, 'distill', 'traces.jsonl')).flatMap((t) => t.rounds as Array<{ valid: boolean; modification: string; graph: string; prompt: string }>).filter((r) => r.valid);
    const calls = (g: string): number => (g.match(/await self\.\w+\(/g) ?? []).length + (g.includes('gather') ? 2 : 0);
    const one = rounds.find((r) => calls(r.graph) === 1);
    const many = rounds.find((r) => calls(r.graph) >= 3);
    if (one === undefined || many === undefined) throw new Error('the demo distilled no one-call or no several-call workflow');
    singleCall = replyOf(one);
    multiCall = replyOf(many);
    singleGraph = one.graph;
    multiGraph = many.graph;
    live = await startLiveGrpo(
      [
        '--set', 'grpo.exchange.tokenEnv=FR_HANDOFF_TOKEN',
        '--set', 'grpo.runLimits.maxOperatorCalls=1',
        '--set', 'grpo.rewards.weights.diversity=0.5',
        '--set', `grpo.tokenizer=${tokDir}`,
      ],
      { FR_HANDOFF_TOKEN: TOKEN },
    );
  }, 300_000);

  afterAll(() => {
    live?.child.kill('SIGTERM');
  });

  it('answers verl compute_score for every row of both RL prompt files, numpy extra_info included, with numbers and strings only', async () => {
    const solution = path.join(await tmpDir(), 'reply.txt');
    await writeFile(solution, singleCall);
    const files = [path.join(demo, 'sft', 'rl', 'train.parquet'), path.join(demo, 'exchange', 'datasets', 'rl', 'train.parquet')];
    const r = await runTrainerPython([path.join(repoRoot, 'scripts', 'trainers', 'checks', 'verl_call_shape.py'), '--solution-file', solution, ...files], {
      env: { GRPO_EXCHANGE_URL: live.url, GRPO_EXCHANGE_TOKEN: TOKEN },
      timeoutMs: 240_000,
    });
    const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { file: string; row: number; ok: boolean; result?: Record<string, unknown>; error?: string });
    expect(lines.filter((l) => !l.ok), r.stderr.slice(-2000)).toEqual([]);
    expect(r.code).toBe(0);
    expect(lines.length).toBe(46);
    for (const l of lines) {
      expect(Object.keys(l.result ?? {})).toEqual(expect.arrayContaining(['score', 'performance', 'complexity', 'efficiency', 'diversity', 'format', 'pass_rate', 'status', 'reason', 'task']));
      expect(l.result?.status).toBe('ok');
    }
  }, 300_000);

  it('names an unknown task or dataset with 404, and a ground truth that names no task with 400', async () => {
    const u = `${live.url}/v1/score?token=${TOKEN}`;
    const gone = await post(u, { data_source: 'flowreasoner/humaneval', solution_str: singleCall, ground_truth: JSON.stringify({ dataset: 'humaneval', taskId: 'HumanEval/9999' }) });
    expect(gone).toMatchObject({ status: 404, body: { error: 'unknown-task' } });
    expect(String(gone.body.message)).toContain('humaneval:HumanEval/9999');
    const nods = await post(u, { data_source: 'x', solution_str: singleCall, ground_truth: JSON.stringify({ dataset: 'nosuchbench', taskId: '1' }) });
    expect(nods).toMatchObject({ status: 404 });
    expect(String(nods.body.message)).toContain('nosuchbench');
    expect(await post(u, { data_source: '', solution_str: singleCall, ground_truth: '' })).toMatchObject({ status: 400, body: { error: 'invalid-ground-truth' } });
    // A task outside this run's prompts (MBPP's train split; the run samples HumanEval) resolves through the registry.
    expect(await post(u, { data_source: 'flowreasoner/mbpp', solution_str: singleCall, ground_truth: JSON.stringify({ dataset: 'mbpp', taskId: 'Mbpp/602' }) })).toMatchObject({ status: 200 });
  }, 120_000);

  it('scores an OpenRLHF batch as one group: the run limits apply and diversity compares the replies of one task', async () => {
    const label = JSON.stringify({ dataset: 'humaneval', taskId: 'HumanEval/0', entryPoint: 'has_close_elements' });
    const prompt = 'PROMPT TEXT ';
    const both = await post(`${live.url}/v1/score/openrlhf?token=${TOKEN}`, { query: [prompt + singleCall, prompt + multiCall], prompts: [prompt, prompt], labels: [label, label] });
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    const logs = both.body.extra_logs as Record<string, number[]>;
    // grpo.runLimits.maxOperatorCalls=1 holds over HTTP too: the several-call workflow stops at its limit and passes nothing.
    expect(logs.pass_rate?.[1]).toBe(0);
    expect(logs.performance?.[1]).toBe(0);
    // Diversity as the in-run group computes it, from the two graphs.
    const want = groupDiversity([graphTokens(singleGraph), graphTokens(multiGraph)]);
    expect(logs.diversity?.[0]).toBeCloseTo(want[0] as number, 12);
    expect(logs.diversity?.[1]).toBeCloseTo(want[1] as number, 12);
    expect(want[0]).toBeGreaterThan(0);
    // Alone, the same reply has no peer: diversity 0, as a group of one in-run.
    const alone = await post(`${live.url}/v1/score/openrlhf?token=${TOKEN}`, { query: [prompt + multiCall], prompts: [prompt], labels: [label] });
    expect((alone.body.extra_logs as Record<string, number[]>).diversity).toEqual([0]);
    expect(both.body.rewards).toEqual(both.body.scores);
  }, 120_000);

  it('records the configured tokenizer in run.json', () => {
    const run = JSON.parse(readFileSync(path.join(live.out, 'exchange', 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(run.chat_template_sha256).toBe(createHash('sha256').update('{{ messages }}').digest('hex'));
    expect(run.tokenizer_revision).toBeNull();
  });
});

describe('an unscorable sample over HTTP', () => {
  it('is a 503 naming why, never a score of 0, on both scoring routes', async () => {
    const task = { id: 'HumanEval/0', entryPoint: 'f', prompt: 'def f(): pass' } as unknown as Task;
    const deps: RemoteScoreDeps = {
      gateway: null as never,
      executor: null as never,
      workerRole: 'worker',
      runLimits: {},
      hiddenRuns: 1,
      checkReply: null as never,
      rewards: RewardSchema.parse({}),
      resolveTask: createTaskResolver({ dataDir: sharedDatasets, known: [{ uid: 'humaneval:HumanEval/0', dataSource: 'flowreasoner/humaneval', task }] }),
      // The sandbox broke under this job: the workflow was valid, but nothing was judged.
      judge: async () => ({
        status: 'no-solution' as const,
        formatFailures: [],
        metrics: { operatorCallSites: 1, operatorInstantiations: 1, distinctOperators: 1, loops: 0, branches: 0, maxDepth: 0, nonBlankLines: 5, astNodes: 30, gatherSites: 0 },
        workflow: { graph: 'class Workflow: pass', prompt: '' },
        hiddenRuns: [{ passRate: null, status: 'sandbox-error', totals: { operatorCalls: 0, workerCalls: 0, promptTokens: 0, completionTokens: 0, cost: 0, cacheHits: 0, wallMs: 1 } }],
        passRates: [0],
      }),
    };
    const gt = JSON.stringify({ dataset: 'humaneval', taskId: 'HumanEval/0' });
    const signal = new AbortController().signal;
    await expect(verlScorer(deps)({ data_source: 'flowreasoner/humaneval', solution_str: 'x', ground_truth: gt }, signal)).rejects.toMatchObject({ status: 503, code: 'unscorable', message: expect.stringContaining('sandbox-error') });
    await expect(openRlhfScorer(deps)({ query: ['x'], prompts: [''], labels: [gt] }, signal)).rejects.toMatchObject({ status: 503, code: 'unscorable' });

    // The verl shim retries a 503 and then raises; a number comes back only when the user chose a stand-in score.
    const srv = await startExchangeServer({ root: await tmpDir(), scorer: verlScorer(deps) });
    try {
      const call = (env: Record<string, string>) =>
        runTrainerPython(
          ['-c', 'import asyncio, json, sys; sys.path.insert(0, "scripts/trainers"); import verl_adapter\ntry:\n  print(json.dumps(asyncio.run(verl_adapter.compute_score("flowreasoner/humaneval", "x", sys.argv[1], {}))))\nexcept verl_adapter.UnscorableSample as e:\n  print("UNSCORABLE", e)', gt],
          { env: { GRPO_EXCHANGE_URL: srv.url, GRPO_EXCHANGE_RETRIES: '1', ...env }, timeoutMs: 60_000 },
        );
      const raised = await call({});
      expect(raised.stdout, raised.stderr).toMatch(/^UNSCORABLE .*sandbox-error/);
      const stood = await call({ GRPO_EXCHANGE_UNSCORABLE_SCORE: '-0.5' });
      expect(JSON.parse(stood.stdout)).toMatchObject({ score: -0.5, unscorable: 1 });
    } finally {
      await srv.close();
    }
  }, 60_000);
});
