// TRL 1.13 on a fresh demo run (scripts/trainers/checks/trl_checks.py): SFTTrainer's own data preparation labels
// assistant tokens only, for both export shapes, and TRL's real RolloutSample is built from our committed rollout steps.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAck } from '../grpo/exchange/acks.ts';
import { startExchangeServer, type ExchangeServer } from '../grpo/exchange/http-server.ts';
import { readPolicy } from '../grpo/exchange/policy-store.ts';
import { demoRun, privateCopy, runTrainerPython, trainerPython, type Ran } from './helpers/trainer-python.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

const CHECKS = path.join(repoRoot, 'scripts', 'trainers', 'checks', 'trl_checks.py');
const TOKEN = 'trl-check-token-never-in-argv';
const IM_END = '<|im_end|>';

interface Message {
  role: string;
  content: string;
}
interface SftExample {
  id: string;
  tokens: number;
  labelled: number;
  runs: Array<[number, number]>;
  assistant_turns: number;
  labelled_text: string[];
}
interface SftSection {
  report: { train_rows_in: number; train_rows: number; labelled_tokens: number; template: Record<string, unknown> };
  chat_template_for_tokenization: string;
  completion_only_loss: boolean;
  assistant_only_loss: boolean;
  collator: string;
  examples: SftExample[];
  train: { global_step: number; losses: number[] };
}
interface StepSection {
  step: number;
  rows: number;
  groups: number;
  fields_checked: Record<string, number>;
}
interface Report {
  versions: Record<string, string>;
  failures: string[];
  checks: number;
  sft_single: SftSection;
  sft_multi: SftSection;
  template_errors: { file_without_markers: string; unknown_model_template: string; main_exit_code: number };
  rollouts: {
    rollout_sample_fields: Record<string, string>;
    protocol: { attributes: string[]; methods: Record<string, string> };
    steps: StepSection[];
    trl_collation: { samples: number; matched: number; packed_tokens: number };
    http_worker: { consumer: string; samples: number; steps_acked: number[]; policy_version_posted: number };
  };
}

let run = '';
let ran: Ran;
let report: Report | undefined;
let server: ExchangeServer | undefined;
let setupError: unknown;

const jsonl = async (file: string): Promise<Array<Record<string, unknown>>> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  try {
    trainerPython(); // a missing venv throws with the command that builds it
    // The checks ack steps and publish policy versions in the exchange: a private copy of the shared demo run.
    run = await privateCopy(await demoRun());
    server = await startExchangeServer({ root: path.join(run, 'exchange'), pollMs: 20, token: TOKEN });
    const work = await tmpDir('fr-trl-');
    ran = await runTrainerPython([CHECKS, '--run', run, '--work', work, '--url', server.url], {
      env: { GRPO_EXCHANGE_TOKEN: TOKEN, HF_HOME: path.join(work, 'hf'), TRL_EXPERIMENTAL_SILENCE: '1' },
      // Training takes ~25 s alone; CI runs two test files at once on two cores.
      timeoutMs: 420_000,
    });
    const last = ran.stdout.trim().split('\n').at(-1) ?? '';
    report = last.startsWith('{') ? (JSON.parse(last) as Report) : undefined;
  } catch (e) {
    setupError = e; // kept for got(): every test then fails with it, where a throwing beforeAll would only skip them
  }
}, 480_000);

afterAll(async () => {
  await server?.close();
});

/** The report, or a failure that shows why the check script gave none. */
function got(): Report {
  if (setupError !== undefined) throw setupError;
  if (report === undefined) throw new Error(`trl_checks.py printed no report (exit ${ran?.code}):\n${ran?.stderr.slice(-4000)}`);
  return report;
}

describe('TRL 1.13 recipes on a fresh demo run', () => {
  it('runs every check in scripts/trainers/checks/trl_checks.py without a failure', () => {
    const r = got();
    expect(r.failures, ran.stderr.slice(-3000)).toEqual([]);
    expect(ran.code).toBe(0);
    expect(r.versions.trl).toBe('1.13.0');
    expect(r.checks).toBeGreaterThan(100);
  });

  it('single-turn: TRL labels only the completion (assistant text + end of turn) of train.prompt-completion.jsonl', async () => {
    const s = got().sft_single;
    const rows = await jsonl(path.join(run, 'sft', 'train.prompt-completion.jsonl'));
    expect(s.report.train_rows).toBe(rows.length);
    expect(s.completion_only_loss).toBe(true);
    expect(s.assistant_only_loss).toBe(false);
    expect(s.collator).toBe('trl.trainer.sft_trainer.DataCollatorForLanguageModeling');
    expect(s.examples.map((e) => e.id).sort()).toEqual(rows.map((r) => r.id as string).sort());
    for (const e of s.examples) {
      const row = rows.find((r) => r.id === e.id) as { prompt: Message[]; completion: Message[] };
      // One labelled span: exactly the assistant message and the template's `<|im_end|>\n`, nothing of the prompt.
      expect(e.runs).toHaveLength(1);
      expect(e.labelled_text).toEqual(row.completion.map((m) => m.content + IM_END + '\n'));
      for (const m of row.prompt) expect(e.labelled_text.join('')).not.toContain(m.content);
      expect(e.labelled).toBeLessThan(e.tokens);
    }
    expect(s.report.labelled_tokens).toBe(s.examples.reduce((n, e) => n + e.labelled, 0));
    // 120 optimizer steps of the tiny model on the export: the loss curve falls (the check script prints it).
    expect(s.train.global_step).toBe(120);
    expect(s.train.losses).toHaveLength(120);
    expect(s.train.losses.every((x) => Number.isFinite(x))).toBe(true);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(s.train.losses.slice(0, 20));
    const last = mean(s.train.losses.slice(-20));
    expect(last, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`).toBeLessThan(first / 2);
  });

  it("multi-turn: assistant_only_loss with TRL's own qwen2_5 training template labels every assistant turn and nothing else", async () => {
    const s = got().sft_multi;
    const rows = await jsonl(path.join(run, 'sft', 'train.multiturn.messages.jsonl'));
    expect(s.assistant_only_loss).toBe(true);
    // The tiny model ships TRL's stock Qwen2.5 template (no markers); TRL swaps in its generation-marked variant.
    expect(s.report.template).toMatchObject({ trl_name: 'trl/chat_templates/qwen2_5.jinja', training_template: 'trl/chat_templates/qwen2_5_training.jinja', stop_token_trained: true });
    expect(s.chat_template_for_tokenization).toBe('trl/chat_templates/qwen2_5_training.jinja');
    expect(s.report.train_rows).toBe(rows.length + 1); // the export's rows plus one two-turn conversation made from them
    for (const row of rows as Array<{ id: string; messages: Message[] }>) {
      const e = s.examples.find((x) => x.id === row.id);
      expect(e, row.id).toBeDefined();
      const assistants = row.messages.filter((m) => m.role === 'assistant');
      // The {% generation %} block of each assistant turn: the newline after the role header, the text, `<|im_end|>\n`.
      expect(e?.labelled_text).toEqual(assistants.map((m) => '\n' + m.content + IM_END + '\n'));
      for (const m of row.messages.filter((x) => x.role !== 'assistant')) expect(e?.labelled_text.join('')).not.toContain(m.content);
    }
    const two = s.examples.find((x) => x.id === 'derived:two-assistant-turns');
    expect(two?.assistant_turns).toBe(2);
    expect(two?.runs).toHaveLength(2); // the user turn between the two answers stays unlabelled
    expect(s.train.global_step).toBe(20);
    expect(s.train.losses.at(-1)).toBeLessThan(s.train.losses[0] ?? 0);
  });

  it('refuses chat templates that cannot mark assistant tokens, with a message that says what to do', () => {
    const t = got().template_errors;
    expect(t.file_without_markers).toContain('{% generation %}');
    expect(t.unknown_model_template).toContain('--chat-template');
    expect(t.main_exit_code).toBe(2);
  });

  it("builds TRL's RolloutSample from every committed step, field by field, and TRL's collator packs them unchanged", async () => {
    const r = got().rollouts;
    expect(Object.keys(r.rollout_sample_fields)).toEqual(['prompt', 'completion', 'input_ids', 'completion_mask', 'old_log_probs', 'advantage', 'model_version', 'group_id', 'metrics', 'enqueued_at']);
    expect(r.protocol.attributes).toEqual(['rollout_buffer', 'metrics_queue']);
    expect(Object.keys(r.protocol.methods).sort()).toEqual(['check_health', 'start', 'stop', 'update_model_version']);
    expect(r.steps.length).toBeGreaterThan(0);
    for (const st of r.steps) {
      const manifest = JSON.parse(await readFile(path.join(run, 'exchange', 'rollouts', `step=${String(st.step).padStart(6, '0')}`, '_MANIFEST.json'), 'utf8')) as { num_rows: number; num_groups: number };
      expect(st.rows).toBe(manifest.num_rows);
      expect(st.groups).toBe(manifest.num_groups);
      for (const f of ['type', 'input_ids', 'completion_mask', 'old_log_probs', 'advantage', 'model_version', 'group_id', 'prompt_completion', 'metrics']) {
        expect(st.fields_checked[f], `step ${st.step} ${f}`).toBe(manifest.num_rows);
      }
    }
    expect(r.trl_collation.matched).toBe(r.steps[0]?.rows);
  });

  it('ExchangeRolloutWorker queues the same samples from the live server, acks each step and posts the synced version', async () => {
    const h = got().rollouts.http_worker;
    const root = path.join(run, 'exchange');
    expect(h.samples).toBe(got().rollouts.steps.reduce((n, s) => n + s.rows, 0));
    expect(h.steps_acked).toEqual(got().rollouts.steps.map((s) => s.step));
    for (const step of h.steps_acked) expect(await readAck(root, step, 'trl-check')).toMatchObject({ status: 'trained', trained_policy_version: null });
    expect(await readPolicy(root)).toMatchObject({ version: h.policy_version_posted, source: 'nccl' });
    expect(ran.stderr).not.toContain(TOKEN);
  });
});
