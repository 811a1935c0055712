#!/usr/bin/env python3
"""Calls verl_adapter.compute_score the way verl's reward loop does, for every row of RL prompt Parquet files.

verl reads each row with its RLHFDataset (pyarrow → pandas/numpy), so extra_info values arrive as numpy scalars, and
the reward loop adds num_turns (numpy.int64) and rollout_reward_scores. This script rebuilds that call shape:
    compute_score(data_source, solution_str, ground_truth, extra_info, reward_router_address=None, ...)
and prints one JSON line per row: {"file", "row", "ok", "result" | "error"}. Exit 0 when every call returned a dict
whose values are all numbers or strings, with a numeric "score"; 1 otherwise.

Usage: verl_call_shape.py --solution-file REPLY.txt FILE.parquet [FILE.parquet ...]
       (GRPO_EXCHANGE_URL and, if the server has one, GRPO_EXCHANGE_TOKEN in the environment, as for verl itself)
"""

import argparse
import asyncio
import json
import numbers
import os
import sys

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import verl_adapter  # noqa: E402  (the shim under test, next to this folder)


def verl_extra_info(row):
    """extra_info as verl hands it over: the row's struct with numpy scalars, plus what the reward loop adds."""
    extra = dict(row["extra_info"])
    extra["index"] = np.int64(extra["index"])
    extra["num_turns"] = np.int64(2)
    extra["rollout_reward_scores"] = {}
    extra["response_length"] = np.array([17], dtype=np.int64)[0]
    extra["valid"] = np.bool_(True)
    extra["weights"] = np.array([0.5, 0.25], dtype=np.float32)
    return extra


def shape_problem(result):
    if not isinstance(result, dict):
        return "not a dict: %r" % (type(result),)
    score = result.get("score")
    if isinstance(score, bool) or not isinstance(score, numbers.Real):
        return "score is not a number: %r" % (score,)
    for k, v in result.items():
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, str)):
            return "key %s is %r, not a number or a string" % (k, v)
    return None


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--solution-file", required=True)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    solution = open(args.solution_file, encoding="utf-8").read()
    gate = asyncio.Semaphore(args.concurrency)
    failures = 0

    async def one(path, i, row):
        async with gate:
            try:
                result = await verl_adapter.compute_score(
                    row["data_source"], solution, row["reward_model"]["ground_truth"], verl_extra_info(row),
                    reward_router_address=None, reward_model_tokenizer=None,
                )
            except Exception as e:  # reported per row: the test reads which rows fail and why
                return {"file": path, "row": i, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        problem = shape_problem(result)
        return {"file": path, "row": i, "ok": problem is None, "result": result, **({"error": problem} if problem else {})}

    jobs = []
    for path in args.files:
        for i, row in enumerate(pq.read_table(path).to_pylist()):
            jobs.append(one(path, i, row))
    for out in await asyncio.gather(*jobs):
        failures += 0 if out["ok"] else 1
        print(json.dumps(out), flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
