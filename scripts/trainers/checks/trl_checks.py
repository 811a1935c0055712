#!/usr/bin/env python3
"""Checks of the TRL 1.13 recipes against a real run (tests/trainers.trl.test.ts runs this on a fresh demo).

    python scripts/trainers/checks/trl_checks.py --run RUN --work DIR [--url EXCHANGE_URL] [--only sft,rollouts]
    (token for --url: env GRPO_EXCHANGE_TOKEN)

sft: builds a tiny tokenizer + Qwen2 model from RUN/sft (tiny_model.py), builds TRL's SFTTrainer through trl_sft.py for
  both shapes, pulls every batch from the trainer's own dataloader (TRL's dataset preparation and collator) and checks
  that the labels are -100 everywhere except on the assistant text: each run of labelled tokens must decode to exactly
  one assistant message plus the template's end-of-turn text, at the place where the rendered conversation has it,
  and no system or user text is labelled. Then it takes two optimizer steps. The multi-turn set is the export's file
  plus one conversation with two assistant turns joined from two real rows, since the demo's samples have one turn.
  Also checks that a template without {% generation %} markers is refused with a clear message.
rollouts: builds TRL's real RolloutSample objects from every committed step (part files read with pyarrow), checks
  them field by field against independently read rows, feeds step 0 through TRL's own RolloutQueueDataset,
  FixedCountBatcher and DataCollatorForRollout, and (with --url) runs ExchangeRolloutWorker against the live server.

Prints one JSON report on stdout; exits 1 listing the failed checks, 0 when all pass.
"""

import argparse
import dataclasses
import hashlib
import inspect
import json
import math
import os
import queue
import sys
import time
import traceback
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # scripts/trainers

IM_END = "<|im_end|>"
# Single-turn trains long enough for a loss curve that must fall (120 steps of a tiny model on CPU, ~18 s);
# multi-turn only needs steps that run, its point being the labels.
MAX_STEPS = {"single": 120, "multi": 20}


class Checks:
    def __init__(self):
        self.failures = []
        self.count = 0

    def __call__(self, cond, what):
        self.count += 1
        if not cond:
            self.failures.append(what)
        return cond


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def labelled_runs(labels):
    """[start, end) index ranges of consecutive labelled (!= -100) positions."""
    runs, start = [], None
    for i, lab in enumerate(labels + [-100]):
        if lab != -100 and start is None:
            start = i
        elif lab == -100 and start is not None:
            runs.append((start, i))
            start = None
    return runs


# ---------------------------------------------------------------- SFT


def multi_export(run, work):
    """A folder with the export's multi-turn rows plus one two-assistant-turn conversation made of two real rows."""
    rows = read_jsonl(os.path.join(run, "sft", "train.multiturn.messages.jsonl"))
    a, b = rows[0], rows[1 % len(rows)]
    b_user = next(m for m in b["messages"] if m["role"] == "user")
    b_asst = next(m for m in b["messages"] if m["role"] == "assistant")
    derived = {"id": "derived:two-assistant-turns", "messages": a["messages"] + [b_user, b_asst]}
    out = os.path.join(work, "sft-multi")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "train.multiturn.messages.jsonl"), "w", encoding="utf-8") as fh:
        for r in rows + [derived]:
            fh.write(json.dumps(r) + "\n")
    return out


def conversation(row, shape):
    return row["prompt"] + row["completion"] if shape == "single" else row["messages"]


def expected_spans(row, shape):
    """What must carry labels, from the template's text (TRL's qwen2_5 templates), independent of TRL's masking code:
    single: the completion after the generation prompt `<|im_start|>assistant\\n`; multi: the {% generation %} block of
    each assistant turn, which starts with the newline after the role."""
    if shape == "single":
        return [m["content"] + IM_END + "\n" for m in row["completion"]]
    return ["\n" + m["content"] + IM_END + "\n" for m in row["messages"] if m["role"] == "assistant"]


def sft_check(check, shape, run, work, tiny_dir):
    import trl_sft

    export = os.path.join(run, "sft") if shape == "single" else multi_export(run, work)
    args = trl_sft.parse_args(
        ["--export", export, "--model", tiny_dir, "--output", os.path.join(work, f"out-{shape}"), "--shape", shape,
         "--max-steps", str(MAX_STEPS[shape]), "--batch-size", "2", "--grad-accum", "1", "--lr", "2e-3", "--warmup", "0",
         "--logging-steps", "1", "--no-gradient-checkpointing", "--no-bf16"]
    )
    t0 = time.time()
    trainer, report = trl_sft.make_trainer(args)
    tok = trainer.processing_class
    source = {r["id"]: r for r in read_jsonl(report["train_file"])}
    prepared = {tuple(r["input_ids"]): r["id"] for r in trainer.train_dataset}
    check(len(prepared) == len(source), f"{shape}: TRL prepared {len(prepared)} distinct rows of {len(source)}")

    examples = []
    seen = set()
    for batch in trainer.get_train_dataloader():  # TRL's prepared dataset through its DataCollatorForLanguageModeling
        ids_b, mask_b, lab_b = batch["input_ids"], batch["attention_mask"], batch["labels"]
        check(ids_b.shape == lab_b.shape == mask_b.shape, f"{shape}: batch tensors differ in shape")
        for i in range(ids_b.shape[0]):
            valid = mask_b[i] == 1
            check(bool((lab_b[i][~valid] == -100).all()), f"{shape}: a padding position carries a label")
            ids, labels = ids_b[i][valid].tolist(), lab_b[i][valid].tolist()
            rid = prepared.get(tuple(ids))
            if not check(rid is not None, f"{shape}: a collated row matches no prepared row"):
                continue
            seen.add(rid)
            row = source[rid]
            msgs = conversation(row, shape)
            rendered = tok.apply_chat_template(msgs, tokenize=False, chat_template=trainer.chat_template)
            check(tok.decode(ids, skip_special_tokens=False) == rendered, f"{shape} {rid}: tokens do not decode to the rendered conversation")
            check(all(l == -100 or l == t for l, t in zip(labels, ids)), f"{shape} {rid}: a label differs from its input id")
            runs = labelled_runs(labels)
            spans = [tok.decode(ids[a:b], skip_special_tokens=False) for a, b in runs]
            want = expected_spans(row, shape)
            check(spans == want, f"{shape} {rid}: labelled text is not exactly the assistant message(s) plus {IM_END!r}: got {[s[:60] + '...' + s[-20:] for s in spans]}")
            # Where: the text before each labelled run is the rendered conversation up to that assistant text.
            pos = 0
            for (a, _), w in zip(runs, want):
                at = rendered.find(w, pos)
                check(at >= 0 and tok.decode(ids[:a], skip_special_tokens=False) == rendered[:at], f"{shape} {rid}: labels start at token {a}, not where the assistant text starts")
                pos = at + len(w)
            labelled_text = "".join(spans)
            unlabelled_text = "".join(tok.decode(ids[b:a2], skip_special_tokens=False) for (_, b), (a2, _) in zip([(0, 0)] + runs, runs + [(len(ids), 0)]))
            for m in msgs:
                if m["role"] in ("system", "user"):
                    check(m["content"] in unlabelled_text, f"{shape} {rid}: {m['role']} text is not all in the unlabelled tokens")
                    check(len(m["content"]) < 40 or m["content"] not in labelled_text, f"{shape} {rid}: {m['role']} text is labelled")
            examples.append(
                {
                    "id": rid,
                    "tokens": len(ids),
                    "labelled": sum(b - a for a, b in runs),
                    "runs": runs,
                    "assistant_turns": sum(1 for m in msgs if m["role"] == "assistant"),
                    "labelled_text": spans,
                    "first_labelled_token": tok.convert_ids_to_tokens(ids[runs[0][0]]) if runs else None,
                    "last_unlabelled_before": tok.decode(ids[max(0, runs[0][0] - 3) : runs[0][0]], skip_special_tokens=False) if runs else None,
                }
            )
    check(seen == set(source), f"{shape}: the dataloader did not yield every row once per epoch ({sorted(seen)} vs {sorted(source)})")
    prep_s = time.time() - t0

    t1 = time.time()
    result = trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    steps = MAX_STEPS[shape]
    check(result.global_step == steps, f"{shape}: trained {result.global_step} steps, expected {steps}")
    check(all(math.isfinite(x) for x in losses) and len(losses) == steps, f"{shape}: losses {losses}")
    # Learning, not just running: the mean of the last tenth of the steps is below the first tenth's.
    tenth = max(1, steps // 10)
    head, tail = sum(losses[:tenth]) / tenth, sum(losses[-tenth:]) / tenth
    check(tail < head, f"{shape}: loss did not fall ({head:.3f} over the first {tenth} steps, {tail:.3f} over the last)")
    return {
        "report": report,
        "chat_template_for_tokenization": trl_sft.trl_template_name(trainer.chat_template) if trainer.chat_template else "tokenizer's own",
        "completion_only_loss": trainer.completion_only_loss,
        "assistant_only_loss": trainer.args.assistant_only_loss,
        "collator": type(trainer.data_collator).__module__ + "." + type(trainer.data_collator).__name__,
        "examples": examples,
        "train": {"global_step": result.global_step, "losses": losses},
        "seconds": {"prepare_and_check": round(prep_s, 1), "train": round(time.time() - t1, 1)},
    }


def template_errors_check(check, run, work, tiny_dir):
    """The recipe refuses, with a message, templates that cannot give assistant masks."""
    import trl_sft
    from transformers import AutoTokenizer

    out = {}
    bad = os.path.join(work, "no-markers.jinja")
    with open(bad, "w", encoding="utf-8") as fh:
        fh.write("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}")
    common = ["--export", os.path.join(run, "sft"), "--model", tiny_dir, "--output", os.path.join(work, "out-bad"), "--dry-run"]
    try:
        trl_sft.make_trainer(trl_sft.parse_args(common + ["--shape", "multi", "--chat-template", bad]))
        check(False, "a --chat-template without generation markers was accepted for --shape multi")
    except trl_sft.RecipeError as e:
        out["file_without_markers"] = str(e)
        check("{% generation %}" in str(e), "the no-markers message does not name {% generation %}")
    tok = AutoTokenizer.from_pretrained(tiny_dir)
    with open(bad, encoding="utf-8") as fh:
        tok.chat_template = fh.read()  # a model whose own template is unknown to TRL and has no markers
    try:
        trl_sft.resolve_chat_template(tok, "multi")
        check(False, "an unknown template without markers was accepted for --shape multi")
    except trl_sft.RecipeError as e:
        out["unknown_model_template"] = str(e)
        check("--chat-template" in str(e), "the unknown-template message does not point to --chat-template")
    out["unknown_model_template_single"] = trl_sft.resolve_chat_template(tok, "single")  # completion-only needs none
    good = os.path.join(os.path.dirname(__import__("trl").__file__), "chat_templates", "qwen2_5_training.jinja")
    out["file_with_markers"] = trl_sft.resolve_chat_template(AutoTokenizer.from_pretrained(tiny_dir), "multi", good)
    check(out["file_with_markers"]["source"] == "file" and out["file_with_markers"]["generation_markers"], "a template file with markers was not taken")
    out["main_exit_code"] = trl_sft.main(common + ["--shape", "multi", "--chat-template", bad])
    check(out["main_exit_code"] == 2, f"trl_sft.main exits {out['main_exit_code']} on a template error, expected 2")
    return out


# ---------------------------------------------------------------- rollouts


def committed_steps(root):
    rdir = os.path.join(root, "rollouts")
    names = sorted(n for n in os.listdir(rdir) if n.startswith("step=") and not n.endswith(".tmp"))
    return [os.path.join(rdir, n) for n in names if os.path.exists(os.path.join(rdir, n, "_SUCCESS"))]


def independent_rows(step_dir):
    """The step's rows in payload order (groups by first appearance, file order within), read without the adapter."""
    import pyarrow.parquet as pq

    with open(os.path.join(step_dir, "_MANIFEST.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    rows = [r for f in manifest["files"] for r in pq.read_table(os.path.join(step_dir, f["name"])).to_pylist()]
    first = {}
    for i, r in enumerate(rows):
        first.setdefault(r["group_id"], i)
    return manifest, sorted(rows, key=lambda r: first[r["group_id"]])


def sample_key(s):
    return (s.group_id, tuple(s.input_ids), tuple(s.completion_mask), tuple(s.old_log_probs), s.advantage, s.model_version,
            json.dumps(s.prompt, sort_keys=True), json.dumps(s.completion, sort_keys=True), s.metrics["reward"] if not math.isnan(s.metrics["reward"]) else None)


def rollouts_check(check, run, url=None, token=None):
    t0 = time.time()
    try:
        from trl.experimental.async_grpo.async_rollout_worker import RolloutSample
        import trl.experimental.async_grpo.async_grpo_trainer as agt
    except Exception as e:  # report exactly what TRL's async_grpo import needs and lacks
        check(False, f"importing trl.experimental.async_grpo failed: {type(e).__name__}: {e}")
        return {"import_error": traceback.format_exc()}
    import trl_async_worker as w

    out = {"import_seconds": round(time.time() - t0, 1)}
    check(agt.RolloutSample is RolloutSample, "the trainer module's RolloutSample is not async_rollout_worker.RolloutSample")
    fields = dataclasses.fields(RolloutSample)
    out["rollout_sample_fields"] = {f.name: f.type.__name__ if isinstance(f.type, type) else str(f.type) for f in fields}
    check([f.name for f in fields] == ["prompt", "completion", "input_ids", "completion_mask", "old_log_probs", "advantage", "model_version", "group_id", "metrics", "enqueued_at"],
          f"RolloutSample fields changed: {[f.name for f in fields]}")
    # The worker against TRL's protocol: every declared attribute and method, with the same parameter names.
    proto = agt.RolloutWorkerProtocol
    attrs = list(getattr(proto, "__annotations__", {}))
    methods = [n for n, v in vars(proto).items() if inspect.isfunction(v) and not n.startswith("_")]
    out["protocol"] = {"attributes": attrs, "methods": {n: str(inspect.signature(getattr(proto, n))) for n in methods}}
    worker_probe = w.ExchangeRolloutWorker("http://127.0.0.1:9", "probe")
    for a in attrs:
        check(isinstance(getattr(worker_probe, a, None), queue.Queue), f"ExchangeRolloutWorker.{a} is not a queue")
    for n in methods:
        mine = getattr(w.ExchangeRolloutWorker, n, None)
        check(mine is not None and list(inspect.signature(mine).parameters) == list(inspect.signature(getattr(proto, n)).parameters),
              f"ExchangeRolloutWorker.{n} does not match RolloutWorkerProtocol.{n}{inspect.signature(getattr(proto, n))}")
    try:
        worker_probe.check_health(60.0)
        healthy_ok = True
    except Exception:
        healthy_ok = False
    worker_probe.error = RuntimeError("boom")
    try:
        worker_probe.check_health(60.0)
        raised = False
    except RuntimeError:
        raised = True
    check(healthy_ok and raised, "check_health must return quietly when healthy and raise after an error (TRL calls it for its exception)")

    root = os.path.join(run, "exchange")
    steps = committed_steps(root)
    check(len(steps) > 0, f"no committed steps under {root}")
    out["steps"] = []
    parquet_samples = []
    for step_dir in steps:
        payload = w.read_step(step_dir)
        samples = w.payload_to_rollout_samples(payload, root=root)  # verify_step (sha256 too), then RolloutSample(**...)
        manifest, rows = independent_rows(step_dir)
        tag = os.path.basename(step_dir)
        check(len(samples) == len(rows) == manifest["num_rows"], f"{tag}: {len(samples)} samples, {len(rows)} rows, manifest {manifest['num_rows']}")
        per_field = defaultdict(int)
        for s, r in zip(samples, rows):
            who = f"{tag} group {r['group_id']} sample {r['sample_idx']}"
            n = len(r["input_ids"])
            per_field["type"] += check(type(s) is RolloutSample, f"{who}: not a RolloutSample")
            per_field["input_ids"] += check(s.input_ids == list(r["input_ids"]) and all(type(t) is int for t in s.input_ids), f"{who}: input_ids")
            per_field["completion_mask"] += check(len(s.completion_mask) == n and s.completion_mask == list(r["loss_mask"]), f"{who}: completion_mask != loss_mask")
            per_field["old_log_probs"] += check(
                len(s.old_log_probs) == n and s.old_log_probs == list(r["logprobs"]) and all(lp == 0.0 for lp, m in zip(s.old_log_probs, s.completion_mask) if m == 0),
                f"{who}: old_log_probs != logprobs, or non-zero off the mask",
            )
            per_field["prompt_len"] += check(not any(s.completion_mask[: r["prompt_len"]]) and (r["prompt_len"] >= n or s.completion_mask[r["prompt_len"]] == 1),
                                             f"{who}: the mask does not start at prompt_len {r['prompt_len']}")
            per_field["advantage"] += check(type(s.advantage) is float and s.advantage == r["advantage"], f"{who}: advantage {s.advantage} != {r['advantage']}")
            per_field["model_version"] += check(s.model_version == r["policy_version_start"], f"{who}: model_version != policy_version_start")
            gid = int.from_bytes(hashlib.sha256(r["group_id"].encode()).digest()[:8], "big", signed=True)
            per_field["group_id"] += check(type(s.group_id) is int and s.group_id == gid and -(2**63) <= gid < 2**63, f"{who}: group_id")
            msgs = json.loads(r["messages_json"])
            per_field["prompt_completion"] += check(
                s.prompt + s.completion == msgs and all(m["role"] != "assistant" for m in s.prompt) and (not s.completion or s.completion[0]["role"] == "assistant"),
                f"{who}: prompt/completion are not messages_json split before the first assistant message",
            )
            rew = s.metrics.get("reward")
            per_field["metrics"] += check(
                all(type(v) is float for v in s.metrics.values()) and (math.isnan(rew) if r["reward"] is None else rew == r["reward"]),
                f"{who}: metrics {s.metrics}",
            )
            per_field["enqueued_at"] += check(s.enqueued_at is None, f"{who}: enqueued_at set before queueing")
        groups = {r["group_id"] for r in rows}
        check(len({w.group_id_to_int64(g) for g in groups}) == len(groups), f"{tag}: two group ids hash to one int")
        out["steps"].append({"step": manifest["step"], "rows": len(rows), "groups": len(groups), "fields_checked": dict(per_field),
                             "first": {"input_ids": len(samples[0].input_ids), "trained_tokens": sum(samples[0].completion_mask),
                                       "advantage": samples[0].advantage, "model_version": samples[0].model_version, "group_id": samples[0].group_id,
                                       "prompt_roles": [m["role"] for m in samples[0].prompt], "completion_roles": [m["role"] for m in samples[0].completion]}})
        parquet_samples.extend(samples)

    out["trl_collation"] = trl_collation_check(check, agt, w.payload_to_rollout_samples(w.read_step(steps[0])))
    if url:
        out["http_worker"] = http_worker_check(check, w, url, token, steps, parquet_samples)
    return out


def trl_collation_check(check, agt, samples):
    """Step 0 through TRL's own consumer path: RolloutQueueDataset (staleness), FixedCountBatcher, DataCollatorForRollout."""
    q = queue.Queue()
    for s in samples:
        q.put(s)
    metrics = defaultdict(list)
    version = max(s.model_version for s in samples)
    ds = agt.RolloutQueueDataset(q, lambda: version, lambda stale_after_s: None, 60.0, metrics, max_staleness=4, poll_interval_s=0.1)
    micro = next(iter(agt.FixedCountBatcher(ds, 1, len(samples))))
    batch = agt.DataCollatorForRollout(pad_token_id=0, num_processes=1, metrics=metrics)([micro])
    by_ids = {id(s.input_ids): s for s in samples}
    row_pos = batch["position_ids"][0].tolist()
    off, matched = 0, 0
    for ex in micro[0]:
        s = by_ids[id(ex["input_ids"])]
        n = len(s.input_ids)
        seg = slice(off, off + n)
        ok = (
            batch["input_ids"][0][seg].tolist() == s.input_ids
            and batch["completion_mask"][0][seg].tolist() == s.completion_mask
            and batch["old_log_probs"][0][seg].tolist() == s.old_log_probs
            and all(abs(a - s.advantage) <= 1e-6 * max(1.0, abs(s.advantage)) for a in batch["advantages"][0][seg].tolist())
            and row_pos[seg] == list(range(n))
        )
        matched += check(ok, f"TRL's DataCollatorForRollout packed a sample differently from its RolloutSample (group {s.group_id})")
        off += n
    check(off == len(row_pos) == sum(len(s.input_ids) for s in samples), "the packed row does not hold exactly the step's tokens")
    check(int(batch["global_n_tokens"][0]) == sum(sum(s.completion_mask) for s in samples), "global_n_tokens != trained tokens")
    return {"samples": len(samples), "packed_tokens": off, "matched": matched, "trained_tokens": int(batch["global_n_tokens"][0]),
            "metric_keys": sorted(metrics)}


def http_worker_check(check, w, url, token, steps, parquet_samples):
    """ExchangeRolloutWorker against the live server: it must queue exactly the rows the part files hold, then ack."""
    worker = w.ExchangeRolloutWorker(url, "trl-check", token=token, wait_s=1.0)
    want = len(parquet_samples)
    got = []
    worker.start()
    deadline = time.time() + 60
    while len(got) < want and time.time() < deadline:
        try:
            got.append(worker.rollout_buffer.get(timeout=0.5))
        except queue.Empty:
            worker.check_health(60.0)
    worker.check_health(60.0)
    _, policy = worker.client.request("GET", "/v1/policy")
    posted = int(policy["version"]) + 1
    worker.update_model_version(posted)
    worker.stop()
    check(worker.error is None, f"the worker thread failed: {worker.error!r}")
    check(len(got) == want, f"the worker queued {len(got)} samples, the part files hold {want}")
    check(all(isinstance(s.enqueued_at, float) for s in got), "queued samples lack enqueued_at")
    check(sorted(map(sample_key, got)) == sorted(map(sample_key, parquet_samples)), "samples from HTTP differ from samples from the part files")
    check(worker.steps_queued == list(range(len(steps))), f"steps queued {worker.steps_queued}")
    metrics = []
    while not worker.metrics_queue.empty():
        metrics.append(worker.metrics_queue.get_nowait())
    return {"consumer": "trl-check", "samples": len(got), "steps_acked": worker.steps_queued, "policy_version_posted": posted, "metrics": metrics}


# ---------------------------------------------------------------- main


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a run folder with sft/ and exchange/ (flowreasoner demo --out)")
    p.add_argument("--work", required=True, help="scratch folder")
    p.add_argument("--url", default=None, help="exchange server serving RUN/exchange (token: env GRPO_EXCHANGE_TOKEN)")
    p.add_argument("--only", default="sft,rollouts")
    args = p.parse_args(argv)
    only = set(args.only.split(","))
    check = Checks()
    report = {"versions": {}}
    t0 = time.time()
    import datasets
    import torch
    import transformers
    import trl

    torch.set_num_threads(2)
    report["versions"] = {"trl": trl.__version__, "transformers": transformers.__version__, "datasets": datasets.__version__, "torch": torch.__version__}
    try:
        if "sft" in only:
            import tiny_model

            tiny_dir = os.path.join(args.work, "tiny")
            tok, model = tiny_model.build(os.path.join(args.run, "sft"), tiny_dir)
            report["tiny_model"] = {"vocab": len(tok), "params": sum(x.numel() for x in model.parameters()), "dir": tiny_dir}
            report["sft_single"] = sft_check(check, "single", args.run, args.work, tiny_dir)
            report["sft_multi"] = sft_check(check, "multi", args.run, args.work, tiny_dir)
            report["template_errors"] = template_errors_check(check, args.run, args.work, tiny_dir)
        if "rollouts" in only:
            report["rollouts"] = rollouts_check(check, args.run, args.url, os.environ.get("GRPO_EXCHANGE_TOKEN"))
    except Exception:
        check(False, "check crashed:\n" + traceback.format_exc())
    report["checks"] = check.count
    report["failures"] = check.failures
    report["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(report), flush=True)
    for f in check.failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
