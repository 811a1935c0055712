#!/usr/bin/env python3
"""Loads every file a run wrote for trainers with the loaders the trainers use, and checks the exact column types.

    check_exports.py RUN_DIR [--json]

RUN_DIR is a run directory (`sft/` and `exchange/` inside, as `flowreasoner demo` leaves it) or an exchange root.
For every file:
  - Hugging Face `datasets.load_dataset("parquet" | "json", data_files=FILE)` must load it, with at least one row
    (a 0-row file is an error: `datasets` refuses those, so we never write them);
  - Parquet files are read with pyarrow and their types compared with trainer-contract.md §10.2 (RL prompts) and
    §10.3 (rollout rows); SFT Parquet and JSON files with the shapes TRL, verl and LLaMA-Factory read;
  - rollout parts are read only from committed steps (`_SUCCESS`), and only the parts `_MANIFEST.json` lists.
Prints one line per file (or JSON lines with --json) and exits 0 when every file passes, 1 otherwise, 2 on bad usage.
"""

import argparse
import glob
import json
import os
import sys

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

datasets.disable_progress_bars()
datasets.logging.set_verbosity_error()

S, I8, I16, I32, I64, F32, F64, B = "string", "int8", "int16", "int32", "int64", "float", "double", "bool"


def lst(t):
    return "list<%s>" % t


def struct(*fields):
    return "struct<%s>" % ",".join("%s:%s" % f for f in fields)


# trainer-contract.md §10.2: one row per prompt.
RL_PROMPTS = {
    "data_source": S,
    "prompt": lst(struct(("role", S), ("content", S))),
    "ability": S,
    "reward_model": struct(("style", S), ("ground_truth", S)),
    "extra_info": struct(("split", S), ("index", I64), ("prompt_uid", S), ("meta_json", S)),
    "problem": S,
    "answer": S,
}

# trainer-contract.md §10.3: one row per training sequence, in file order.
ROLLOUT = {
    "run_id": S, "step": I64, "group_id": S, "group_size": I32, "sample_idx": I32, "segment_idx": I16,
    "prompt_uid": S, "data_source": S, "input_ids": lst(I32), "loss_mask": lst(I8), "logprobs": lst(F32),
    "prompt_len": I32, "reward": F64,
    "reward_components": struct(("performance", F64), ("complexity", F64), ("efficiency", F64), ("diversity", F64), ("format", F64)),
    "advantage": F64, "policy_version_start": I64, "policy_version_end": I64, "served_model": S,
    "finish_reason": S, "truncated": B, "num_turns": I32, "messages_json": S, "tools_json": S,
    "sampling_json": S, "metrics_json": S,
}

MESSAGES = {"id": S, "messages": lst(struct(("role", S), ("content", S)))}
MESSAGES_SEPARATE = {"id": S, "messages": lst(struct(("role", S), ("content", S), ("reasoning_content", S)))}
VERL_SFT = {"id": S, "question": S, "answer": S}


def norm(t):
    """An Arrow type as text with names of list items and nullability left out: what a reader's code depends on."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return lst(norm(t.value_type))
    if pa.types.is_struct(t):
        return struct(*[(t.field(i).name, norm(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_map(t):
        return "map<%s,%s>" % (norm(t.key_type), norm(t.item_type))
    if pa.types.is_large_string(t):
        return S
    return str(t)


def schema_problems(path, expected):
    got = pq.read_schema(path)
    names = [f.name for f in got]
    out = []
    if names != list(expected):
        out.append("columns %s, expected %s" % (names, list(expected)))
    for f in got:
        want = expected.get(f.name)
        if want is not None and norm(f.type) != want:
            out.append("%s is %s, expected %s" % (f.name, norm(f.type), want))
    return out


def hf_load(path):
    kind = "parquet" if path.endswith(".parquet") else "json"
    ds = datasets.load_dataset(kind, data_files=path, split="train")
    return ds


def check_sharegpt(rows, path):
    """LLaMA-Factory's sharegpt converter: human/observation at odd positions, gpt/function_call at even ones, even count."""
    out = []
    for i, r in enumerate(rows):
        conv = r.get("conversations") or r.get("messages")
        role_key = "from" if "conversations" in r else "role"
        user, asst = ("human", "gpt") if role_key == "from" else ("user", "assistant")
        turns = [m for m in conv if m[role_key] != "system"]
        if len(turns) == 0 or len(turns) % 2 != 0:
            out.append("row %d: %d turns, LLaMA-Factory needs an even number ending on the assistant" % (i, len(turns)))
            continue
        for j, m in enumerate(turns):
            want = user if j % 2 == 0 else asst
            if m[role_key] != want:
                out.append("row %d turn %d is %s, expected %s" % (i, j, m[role_key], want))
                break
    return out


def check_file(path, root):
    rel = os.path.relpath(path, root)
    problems = []
    try:
        ds = hf_load(path)
        rows = ds.num_rows
        if rows == 0:
            problems.append("0 rows: Hugging Face datasets refuses such files")
    except Exception as e:  # the loader's own words are the finding
        return {"file": rel, "ok": False, "problems": ["datasets.load_dataset failed: %s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")]}
    base = os.path.basename(path)
    if path.endswith(".parquet"):
        if "/rollouts/" in path:
            problems += schema_problems(path, ROLLOUT)
        elif os.sep + "rl" + os.sep in path:
            problems += schema_problems(path, RL_PROMPTS)
        elif "verl-sft" in base:
            sch = pq.read_schema(path)
            problems += schema_problems(path, VERL_SFT if "reasoning_content" not in sch.names else dict(VERL_SFT, reasoning_content=S))
        elif "messages" in base:
            sch = pq.read_schema(path)
            problems += schema_problems(path, MESSAGES_SEPARATE if "reasoning_content" in norm(sch.field("messages").type) else MESSAGES)
    else:
        sample = ds[0] if rows else {}
        if "prompt-completion" in base:
            if not (isinstance(sample.get("prompt"), list) and isinstance(sample.get("completion"), list)):
                problems.append("prompt/completion rows must hold message lists")
        elif "sharegpt" in base:
            problems += check_sharegpt(ds, path)
        elif "messages" in base:
            if not isinstance(sample.get("messages"), list):
                problems.append("messages rows must hold a message list")
        elif "alpaca" in base:
            missing = [k for k in ("instruction", "input", "output", "system") if k not in ds.column_names]
            if missing:
                problems.append("alpaca rows lack %s" % missing)
    return {"file": rel, "ok": not problems, "rows": rows, "problems": problems}


def committed_parts(exchange):
    out = []
    for step_dir in sorted(glob.glob(os.path.join(exchange, "rollouts", "step=*"))):
        if step_dir.endswith(".tmp") or not os.path.exists(os.path.join(step_dir, "_SUCCESS")):
            continue
        with open(os.path.join(step_dir, "_MANIFEST.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
        out += [os.path.join(step_dir, f["name"]) for f in manifest["files"]]
    return out


def files_of(run):
    sft, exchange = os.path.join(run, "sft"), os.path.join(run, "exchange")
    if not os.path.isdir(exchange) and os.path.exists(os.path.join(run, "run.json")):
        exchange = run
    files = []
    if os.path.isdir(sft):
        for pat in ("*.jsonl", "*.json", "*.parquet", os.path.join("rl", "*.parquet")):
            files += [f for f in glob.glob(os.path.join(sft, pat)) if os.path.basename(f) not in ("stats.json", "dataset_info.json")]
    if os.path.isdir(exchange):
        files += glob.glob(os.path.join(exchange, "datasets", "rl", "*.parquet"))
        files += committed_parts(exchange)
    return sorted(files)


def check_dataset_info(run):
    """dataset_info.json names only files that exist (an empty split is not registered)."""
    path = os.path.join(run, "sft", "dataset_info.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        info = json.load(fh)
    return ["dataset_info.json: %s points at missing %s" % (k, v["file_name"]) for k, v in info.items() if not os.path.exists(os.path.join(run, "sft", v["file_name"]))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--json", action="store_true", help="one JSON object per file")
    args = ap.parse_args()
    if not os.path.isdir(args.run):
        print("not a directory: %s" % args.run, file=sys.stderr)
        return 2
    files = files_of(args.run)
    if not files:
        print("no trainer files under %s" % args.run, file=sys.stderr)
        return 1
    results = [check_file(f, args.run) for f in files]
    extra = check_dataset_info(args.run)
    if extra:
        results.append({"file": "sft/dataset_info.json", "ok": False, "problems": extra})
    for r in results:
        if args.json:
            print(json.dumps(r))
        else:
            print("%s %s%s" % ("ok  " if r["ok"] else "FAIL", r["file"], "" if r["ok"] else ": " + "; ".join(r["problems"])))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
