// The loop closed on CPU: `flowreasoner grpo` samples from the decision-policy server, executes every workflow with
// the simulated worker in the sandbox, and hands the steps over grpo-exchange/v1 HTTP to scripts/trainers/torch_grpo.py,
// which trains, loads the new weights into the server, publishes the version and acks. One seeded run serves two
// checks: the trainer is killed with SIGKILL twice (between a step's checkpoint and its ack, and while it waits for
// the next step) and resumes each time without training a step twice; and the reward rises beyond the run-to-run noise.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runLearning, type LearnResult } from '../scripts/bench/learn-loop.ts';
import { sharedDatasets, tmpDir } from './helpers/tmp.ts';

const STEPS = 6;
/**
 * Run-to-run noise, measured on this configuration (issue 14's closing note): with the trainer's learning rate at 0
 * (the policy frozen at version 0), seeds 1–4 gave per-step mean rewards with a standard deviation of 0.056 (24
 * steps), so the statistic below (the mean of the last two steps minus step 0) has a standard deviation of about
 * 0.069; the frozen runs' gains were 0.041, −0.001, 0.020 and 0.062. With lr 0.05, seeds 1–4 gained 0.198, 0.165,
 * 0.193 (this seed) and 0.142. The bar is two standard deviations: a frozen policy clears it about 2% of the time.
 */
const NOISE_BAR = 2 * 0.069;

let result: LearnResult;
const kills: Array<{ pid: number | undefined; signal: NodeJS.Signals | null; when: string }> = [];

beforeAll(async () => {
  process.env.FLOWREASONER_DATA_DIR ??= sharedDatasets;
  const out = path.join(await tmpDir('fr-torch-grpo-'), 'run');
  result = await runLearning({
    out,
    steps: STEPS,
    set: ['grpo.batchSize=6', 'grpo.maxPrompts=6', 'grpo.groupSize=8', 'run.seed=3', 'sim.seed=3'],
    lr: 0.05,
    // First process: the hidden hook SIGKILLs it right after step 1's checkpoint, before publish and ack.
    trainerArgs: ['--crash-after-checkpoint', '1'],
    onTrainer: (first, restart) => {
      first.once('exit', (_code, signal) => {
        kills.push({ pid: first.pid, signal, when: 'after the checkpoint of step 1' });
        const second = restart();
        // Second process: killed from outside once it has acked step 3, while it long-polls for step 4.
        let buffered = '';
        second.stdout!.on('data', (d: Buffer) => {
          buffered += d.toString();
          if (/"event": "acked", "step": 3\b/.test(buffered) && second.exitCode === null && second.signalCode === null) {
            buffered = '';
            second.kill('SIGKILL');
            second.once('exit', (_c, s) => {
              kills.push({ pid: second.pid, signal: s, when: 'waiting after the ack of step 3' });
              restart();
            });
          }
        });
      });
    },
    timeoutMs: 400_000,
  });
}, 420_000);

describe('torch GRPO trainer on grpo-exchange/v1', () => {
  it('resumes after kill -9 without training any step twice', async () => {
    expect(kills.map((k) => [k.signal, k.when])).toEqual([
      ['SIGKILL', 'after the checkpoint of step 1'],
      ['SIGKILL', 'waiting after the ack of step 3'],
    ]);
    const trained = result.trainerEvents.filter((e) => e.event === 'trained').map((e) => e.step);
    expect(trained).toEqual([0, 1, 2, 3, 4, 5]);
    // Step 1 was checkpointed by the killed process; its successor only published and acked it.
    expect(result.trainerEvents.filter((e) => e.event === 'replayed').map((e) => e.step)).toEqual([1]);

    const exchange = path.join(result.runDir, 'exchange');
    const acks = (await readdir(path.join(exchange, 'acks'))).sort();
    expect(acks).toEqual(Array.from({ length: STEPS }, (_, s) => `step=${String(s).padStart(6, '0')}.torch-grpo.json`));
    for (const [s, name] of acks.entries()) {
      const ack = JSON.parse(await readFile(path.join(exchange, 'acks', name), 'utf8')) as { status: string; trained_policy_version: number; rows_used: number; metrics: { ratio_dev_first: number } };
      expect(ack.status).toBe('trained');
      expect(ack.trained_policy_version).toBe(s + 1);
      expect(ack.rows_used).toBe(48);
      // Trained from input_ids alone, with the weights that sampled them: the ratio is 1 up to float32 storage.
      expect(ack.metrics.ratio_dev_first).toBeLessThan(1e-6);
    }
    const history = (await readFile(path.join(exchange, 'policy', 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { version: number; path?: string });
    expect(history.map((h) => h.version)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const h of history.slice(1)) expect(existsSync(h.path!), h.path).toBe(true);

    // On-policy: every step was sampled from the version trained on all earlier steps.
    const metrics = (await readFile(path.join(result.runDir, 'grpo', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; policyVersion: number });
    expect(metrics.map((m) => [m.step, m.policyVersion])).toEqual(Array.from({ length: STEPS }, (_, s) => [s, s]));
  });

  it('raises the reward beyond the run-to-run noise within six steps', () => {
    const a = result.rewards[0]!;
    const b = (result.rewards.at(-1)! + result.rewards.at(-2)!) / 2;
    expect(result.rewards).toHaveLength(STEPS);
    expect(b - a, `rewards per step ${result.rewards.map((r) => r.toFixed(3)).join(' ')}`).toBeGreaterThan(NOISE_BAR);
  });
});
