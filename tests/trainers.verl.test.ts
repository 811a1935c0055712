// scripts/trainers/verl_grpo.sh sizes verl's data.max_prompt_length from the exported prompts (checked against lengths
// measured here independently), and verl_adapter.py encodes the numpy values verl passes to compute_score.
import { copyFile, mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoRun, runProcess, runTrainerPython, trainerPython, type Ran } from './helpers/trainer-python.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

const LAUNCHER = path.join(repoRoot, 'scripts', 'trainers', 'verl_grpo.sh');
const TRAINERS = path.join(repoRoot, 'scripts', 'trainers');
const URL = 'http://127.0.0.1:8123/base';
const TOKEN = 'secret-token-never-in-argv';

// A byte-level BPE with an 8k vocabulary, trained on HumanEval and MBPP text (not on the prompts, which would make it
// compress them unrealistically), with a ChatML template: about 2.8 characters a token, close to a real code model's.
const BUILD_TOKENIZER = String.raw`
import gzip, json, os, sys
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast
out, data = sys.argv[1], sys.argv[2]
texts = []
with gzip.open(os.path.join(data, "HumanEval.jsonl.gz"), "rt") as f:
    for line in f:
        r = json.loads(line); texts += [r["prompt"], r["canonical_solution"]]
with open(os.path.join(data, "mbpp.jsonl")) as f:
    for line in f:
        r = json.loads(line); texts += [r["text"], r["code"]]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=8192, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=template).save_pretrained(out)
`;

// The lengths, measured another way than the launcher: rows read by HF datasets (as verl's RLHFDataset reads them),
// the template rendered to text, then tokenised without extra special tokens. Prints one length per row, in file order.
const MEASURE = String.raw`
import json, sys
from datasets import load_dataset
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained(sys.argv[1])
out = []
for f in sys.argv[2:]:
    for row in load_dataset("parquet", data_files=f, split="train"):
        text = tok.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
        assert text.endswith("<|im_start|>assistant\n"), "no generation prompt: " + text[-80:]
        out.append(len(tok(text, add_special_tokens=False)["input_ids"]))
print(json.dumps(out))
`;

// A val split whose first prompt is longer than any train prompt, so a limit taken from train alone would be too small.
const MAKE_LONGER_VAL = String.raw`
import sys
import pyarrow as pa, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
rows = t.slice(0, 2).to_pylist()
rows[0]["prompt"] = [dict(m, content=m["content"] + "\n" + m["content"]) if m["role"] == "user" else m for m in rows[0]["prompt"]]
for r in rows: r["extra_info"]["split"] = "validation"
pq.write_table(pa.Table.from_pylist(rows, schema=t.schema), sys.argv[2])
`;

/** `python3 -m verl.trainer.main_ppo \` then one `  arg \` a line, each arg as bash's printf %q wrote it. */
function parsePrinted(stdout: string): { python: string; module: string; args: string[]; kv: Map<string, string> } {
  const lines = stdout.trimEnd().split('\n').map((l) => l.replace(/ \\$/, '').trim());
  const unq = (s: string): string => s.replace(/\\(.)/g, '$1');
  const [python = '', dashM, module = ''] = (lines[0] ?? '').split(' ');
  expect(dashM).toBe('-m');
  const args = lines.slice(1).map(unq);
  const kv = new Map<string, string>();
  for (const a of args) {
    const i = a.indexOf('=');
    expect(i, `not a key=value override: ${a}`).toBeGreaterThan(0);
    expect(kv.has(a.slice(0, i)), `key given twice: ${a}`).toBe(false);
    kv.set(a.slice(0, i), a.slice(i + 1));
  }
  return { python: unq(python), module, args, kv };
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

describe('verl_grpo.sh', () => {
  let run: string;
  let tok: string;
  let py: string;
  let trainLens: number[];
  let groupSize: number;

  const launch = (args: string[], env: Record<string, string> = {}): Promise<Ran> =>
    runProcess('bash', [LAUNCHER, ...args], {
      env: { GRPO_EXCHANGE_URL: URL, GRPO_EXCHANGE_TOKEN: TOKEN, LENGTH_PYTHON: py, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', ...env },
      timeoutMs: 120_000,
    });
  const measure = async (files: string[]): Promise<number[]> => {
    const r = await runTrainerPython(['-c', MEASURE, tok, ...files], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim()) as number[];
  };

  beforeAll(async () => {
    py = trainerPython(); // a missing venv fails here, with the command that builds it
    run = await demoRun();
    tok = path.join(await tmpDir('fr-verl-tok-'), 'tokenizer');
    const built = await runTrainerPython(['-c', BUILD_TOKENIZER, tok, sharedDatasets], { timeoutMs: 120_000 });
    expect(built.code, built.stderr).toBe(0);
    trainLens = await measure([path.join(run, 'sft', 'rl', 'train.parquet')]);
    groupSize = (JSON.parse(await readFile(path.join(run, 'exchange', 'run.json'), 'utf8')) as { group_size: number }).group_size;
  }, 300_000);

  it('prints a command whose max_prompt_length covers every prompt (no val.parquet: train stands in, validation off)', async () => {
    const rl = path.join(run, 'sft', 'rl');
    const r = await launch(['--print', '--model', tok, '--run', run], { VERL_PYTHON: '/nonexistent/python3' });
    expect(r.code, r.stderr).toBe(0);
    const { python, module, args, kv } = parsePrinted(r.stdout);
    expect(python).toBe('/nonexistent/python3'); // printed, not run
    expect(module).toBe('verl.trainer.main_ppo');

    const longest = Math.max(...trainLens);
    expect(trainLens.length).toBeGreaterThan(0);
    const limit = Number(kv.get('data.max_prompt_length'));
    for (const n of trainLens) expect(limit).toBeGreaterThanOrEqual(n);
    expect(limit).toBe(roundUp(longest, 64));
    // verl's default is 512; these meta-agent prompts are ~1,300 tokens with this tokenizer.
    expect(limit, `longest prompt ${longest} tokens`).toBeGreaterThan(512);

    expect(kv.get('algorithm.adv_estimator')).toBe('grpo');
    expect(kv.get('data.train_files')).toBe(path.join(rl, 'train.parquet'));
    // verl builds a val dataset from data.val_files whatever happens (default: a gsm8k path), so without val.parquet
    // the train file stands in and validation never runs.
    expect(args.some((a) => a.includes('val.parquet'))).toBe(false);
    expect(kv.get('data.val_files')).toBe(path.join(rl, 'train.parquet'));
    expect(kv.get('trainer.val_before_train')).toBe('False');
    expect(kv.get('trainer.test_freq')).toBe('-1');
    expect(kv.get('actor_rollout_ref.model.path')).toBe(tok);
    expect(kv.get('actor_rollout_ref.rollout.n')).toBe(String(groupSize)); // the run's exchange group size
    expect(kv.get('data.train_batch_size')).toBe(String(trainLens.length)); // fewer rows than 64: one batch, not none
    expect(kv.get('custom_reward_function.path')).toBe(path.join(TRAINERS, 'verl_adapter.py'));
    expect(kv.get('custom_reward_function.name')).toBe('compute_score');
    expect(kv.get('+ray_kwargs.ray_init.runtime_env.env_vars.GRPO_EXCHANGE_URL')).toBe(`"${URL}"`); // Hydra-quoted: ':' needs it
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it('takes the max over val.parquet too, and points data.val_files at it', async () => {
    const dir = path.join(await tmpDir('fr-verl-rl-'), 'rl');
    await mkdir(dir);
    await copyFile(path.join(run, 'sft', 'rl', 'train.parquet'), path.join(dir, 'train.parquet'));
    const mk = await runTrainerPython(['-c', MAKE_LONGER_VAL, path.join(dir, 'train.parquet'), path.join(dir, 'val.parquet')]);
    expect(mk.code, mk.stderr).toBe(0);
    const valLens = await measure([path.join(dir, 'val.parquet')]);
    const longest = Math.max(...trainLens, ...valLens);
    expect(Math.max(...valLens)).toBeGreaterThan(roundUp(Math.max(...trainLens), 64)); // the val row decides

    const r = await launch(['--print', '--model', tok, '--prompts', dir, '--group', '16', '--', 'trainer.total_epochs=3']);
    expect(r.code, r.stderr).toBe(0);
    const { kv } = parsePrinted(r.stdout);
    const limit = Number(kv.get('data.max_prompt_length'));
    for (const n of [...trainLens, ...valLens]) expect(limit).toBeGreaterThanOrEqual(n);
    expect(limit).toBe(roundUp(longest, 64));
    expect(kv.get('data.val_files')).toBe(path.join(dir, 'val.parquet'));
    expect(kv.has('trainer.val_before_train')).toBe(false);
    expect(kv.get('actor_rollout_ref.rollout.n')).toBe('16');
    expect(kv.get('trainer.total_epochs')).toBe('3'); // a user override replaces ours (Hydra rejects duplicates)
  });

  it('refuses a smaller prompt limit and a missing exchange URL', async () => {
    const [low, noUrl] = await Promise.all([
      launch(['--print', '--model', tok, '--run', run, '--', 'data.max_prompt_length=512']),
      launch(['--print', '--model', tok, '--run', run], { GRPO_EXCHANGE_URL: '' }),
    ]);
    expect(low.code).toBe(2);
    expect(low.stderr).toMatch(/data\.max_prompt_length=512 is below the prompts' \d+ tokens/);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('GRPO_EXCHANGE_URL is not set');
  });

  it('runs the same command without --print, with the URL exported and the token only in the environment', async () => {
    const dir = await tmpDir('fr-verl-fake-');
    const fake = path.join(dir, 'python3');
    // Stands in for verl's python: records its argv (one per line) and the two variables it inherits.
    await writeFile(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\nprintf '%s\\n%s\\n' "$GRPO_EXCHANGE_URL" "$GRPO_EXCHANGE_TOKEN" > "${dir}/env"\n`);
    await chmod(fake, 0o755);
    const [printed, r] = await Promise.all([launch(['--print', '--model', tok, '--run', run]), launch(['--model', tok, '--run', run], { VERL_PYTHON: fake })]);
    expect(r.code, r.stderr).toBe(0);
    const argv = (await readFile(path.join(dir, 'argv'), 'utf8')).trimEnd().split('\n');
    expect(argv.slice(0, 2)).toEqual(['-m', 'verl.trainer.main_ppo']);
    expect(argv.slice(2)).toEqual(parsePrinted(printed.stdout).args);
    expect(argv.join('\n')).not.toContain(TOKEN);
    expect((await readFile(path.join(dir, 'env'), 'utf8')).split('\n').slice(0, 2)).toEqual([URL, TOKEN]);
  });
});

// verl passes numpy values in extra_info (num_turns is a numpy.int64); json.dumps rejects them.
const NUMPY_ENCODING = String.raw`
import json, sys
import urllib.request
import numpy as np
sys.path.insert(0, sys.argv[1])
import verl_adapter as va

extra = {"num_turns": np.int64(2), "index": np.int32(7), "ok": np.bool_(True), "t": np.float32(0.5), "x": np.float64(1.25),
         "scores": np.array([[1, 2], [3, 4]], dtype=np.int64), "mask": np.array([True, False]),
         "nested": [{"a": np.uint8(255)}, (np.int16(-3), "s")], np.int64(5): "numpy key",
         "objs": np.array([{"k": np.int64(1)}, None], dtype=object), "name": np.str_("flow")}
want = {"num_turns": 2, "index": 7, "ok": True, "t": 0.5, "x": 1.25, "scores": [[1, 2], [3, 4]], "mask": [True, False],
        "nested": [{"a": 255}, [-3, "s"]], "5": "numpy key", "objs": [{"k": 1}, None], "name": "flow"}
try:
    json.dumps(extra)
    raise SystemExit("json.dumps accepted numpy values: the test no longer shows the problem")
except TypeError:
    pass
plain = va.to_jsonable(extra)
assert json.loads(json.dumps(plain)) == want, plain
assert type(plain["num_turns"]) is int and type(plain["ok"]) is bool and type(plain["t"]) is float

# _post_json, the path compute_score takes, with the network call replaced: the body it would send.
sent = {}
class Resp:
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def read(self): return b'{"score": 1.0}'
def fake_urlopen(req, timeout):
    sent["body"], sent["auth"] = json.loads(req.data), req.get_header("Authorization")
    return Resp()
urllib.request.urlopen = fake_urlopen
body = {"data_source": np.str_("flowreasoner/humaneval"), "solution_str": "code", "ground_truth": "HumanEval/1", "extra_info": extra}
assert va._post_json("http://unused/v1/score", body, "tok") == {"score": 1.0}
assert sent["body"] == dict(body, data_source="flowreasoner/humaneval", extra_info=want), sent
assert sent["auth"] == "Bearer tok"
print("ok")
`;

// The adapter must import, and encode plain values, where numpy is absent.
const WITHOUT_NUMPY = String.raw`
import json, sys
sys.modules["numpy"] = None  # any "import numpy" now fails
sys.path.insert(0, sys.argv[1])
import verl_adapter as va
assert va.to_jsonable({"a": (1, 2.5), "b": [{"c": None, "d": True}]}) == {"a": [1, 2.5], "b": [{"c": None, "d": True}]}
print("ok")
`;

describe('verl_adapter.py JSON encoding', () => {
  it('turns numpy scalars, arrays and nested containers into JSON, on the path compute_score posts through', async () => {
    const r = await runTrainerPython(['-c', NUMPY_ENCODING, TRAINERS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
  });

  it('imports without numpy', async () => {
    const r = await runTrainerPython(['-c', WITHOUT_NUMPY, TRAINERS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
  });
});
