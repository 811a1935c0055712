#!/usr/bin/env python3
"""verl adapters for grpo-exchange/v1: a compute_score shim to /v1/score, and exchange rows → DataProto-like batches.

compute_score is tested here with verl's call shape (numpy extra_info) against a live exchange
(tests/trainers.handoff.test.ts); verl itself, torch and GPUs are not available here, so `to_dataproto` is untested.
verl, torch and numpy are imported lazily, so this file imports without them.

1. Scoring (trainer-contract.md §1, option 2): set
       custom_reward_function.path=scripts/trainers/verl_adapter.py custom_reward_function.name=compute_score
   and export GRPO_EXCHANGE_URL (and GRPO_EXCHANGE_TOKEN if the server has one). verl awaits the async function in its
   reward loop; our orchestrator scores with its own executor.
2. Rollouts (option 3-like): `rows_to_batch_lists(payload, pad_id)` gives verl's batch keys with our advantages per
   token; `to_dataproto` wraps them. verl recomputes GRPO unless an estimator passes `advantages` through: register one
   with verl's `register_adv_est` that returns the batch's `advantages` unchanged (check the registry API of your verl).
   verl's `uid` (the group) is our group_id.

Check every key against the verl version you pin.
"""

import asyncio
import json
import os
import sys
import time
import urllib.request


def to_jsonable(value):
    """`value` with numpy scalars and arrays turned into plain Python, through dicts, lists and tuples.

    verl hands compute_score numpy values (extra_info["num_turns"] is a numpy.int64 from its non-tensor batch, and
    arrays or numpy bools/floats can appear), which json.dumps rejects. numpy is never imported here: if it is not
    loaded already, nothing can be a numpy value, and this file keeps importing without it.
    """
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            # tolist() turns numeric elements into Python scalars; object arrays may still hold numpy values or dicts.
            return to_jsonable(value.tolist())
        if isinstance(value, np.generic):
            return value.item()
    if isinstance(value, dict):
        # Keys too: json.dumps refuses a numpy.int64 key.
        return {to_jsonable(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def _post_json(url, body, token, timeout=180.0):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    # A pre-pass rather than json.dumps(default=...): `default` is never called for dict keys.
    data = json.dumps(to_jsonable(body)).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


class UnscorableSample(RuntimeError):
    """The exchange could not judge this sample (503 unscorable): the infrastructure failed, not the workflow."""


def _error_of(e):
    """The server's {"error", "message"} of an HTTPError, or a stand-in when its body is not ours."""
    try:
        body = json.loads(e.read() or b"{}")
    except ValueError:
        body = {}
    return body.get("error", "http-%d" % e.code), body.get("message", str(e))


def _score_with_retries(url, body, token):
    """POST /v1/score. 503 `unscorable` is retried GRPO_EXCHANGE_RETRIES times (default 3), 2 s apart and growing:
    a sandbox that broke once may not break again. Then UnscorableSample is raised, unless the user chose a stand-in
    score with GRPO_EXCHANGE_UNSCORABLE_SCORE (a deliberate choice: the default never turns "not judged" into a number).
    Any other HTTP error (404 unknown task, 400 bad ground truth, 401) raises at once with the server's message."""
    import urllib.error  # stdlib; imported here to keep the module's top level minimal

    tries = int(os.environ.get("GRPO_EXCHANGE_RETRIES", "3"))
    for attempt in range(tries + 1):
        try:
            result = _post_json(url, body, token)
            result["score"] = float(result["score"])
            return result
        except urllib.error.HTTPError as e:
            code, message = _error_of(e)
            if e.code != 503 or code != "unscorable":
                raise RuntimeError("POST /v1/score: %d %s: %s" % (e.code, code, message)) from None
            if attempt == tries:
                stand_in = os.environ.get("GRPO_EXCHANGE_UNSCORABLE_SCORE")
                if stand_in is not None:
                    return {"score": float(stand_in), "unscorable": 1, "reason": message}
                raise UnscorableSample(message) from None
            time.sleep(2.0 * (attempt + 1))


async def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl custom reward function: {"score": float, components..., "status", "reason", "task"} from POST /v1/score.

    Every value is a number or a string (verl averages the keys it gets back). `kwargs` takes what newer verl adds
    (reward_router_address, reward_model_tokenizer) and is not sent.
    """
    base = os.environ["GRPO_EXCHANGE_URL"].rstrip("/")
    body = {"data_source": data_source, "solution_str": solution_str, "ground_truth": ground_truth, "extra_info": extra_info or {}}
    # urllib blocks; a thread keeps verl's reward loop free to score other samples meanwhile.
    return await asyncio.to_thread(_score_with_retries, base + "/v1/score", body, os.environ.get("GRPO_EXCHANGE_TOKEN"))


def rows_to_batch_lists(payload, pad_id):
    """Left-padded prompts and right-padded responses, as verl lays out a batch; plain lists, one entry per row."""
    rows = [r for g in payload["groups"] for r in g["samples"]]
    p_len = max((r["prompt_len"] for r in rows), default=0)
    r_len = max((len(r["input_ids"]) - r["prompt_len"] for r in rows), default=0)
    out = {k: [] for k in ("prompts", "responses", "input_ids", "attention_mask", "position_ids", "response_mask", "old_log_probs", "advantages", "token_level_scores")}
    out["uid"], out["data_source"] = [], []
    for r in rows:
        pl = r["prompt_len"]
        prompt, resp = r["input_ids"][:pl], r["input_ids"][pl:]
        lpad, rpad = p_len - len(prompt), r_len - len(resp)
        mask = r["loss_mask"][pl:] + [0] * rpad
        attn = [0] * lpad + [1] * (len(prompt) + len(resp)) + [0] * rpad
        out["prompts"].append([pad_id] * lpad + prompt)
        out["responses"].append(resp + [pad_id] * rpad)
        out["input_ids"].append(out["prompts"][-1] + out["responses"][-1])
        out["attention_mask"].append(attn)
        pos, seen = [], 0
        for a in attn:
            pos.append(max(seen - 1, 0) if a == 0 else seen)
            seen += a
        out["position_ids"].append(pos)
        out["response_mask"].append(mask)
        out["old_log_probs"].append(r["logprobs"][pl:] + [0.0] * rpad)
        out["advantages"].append([r["advantage"] * m for m in mask])
        # verl puts the sequence reward on the last response token.
        scores = [0.0] * r_len
        if resp and r["reward"] is not None:
            scores[len(resp) - 1] = r["reward"]
        out["token_level_scores"].append(scores)
        out["uid"].append(r["group_id"])
        out["data_source"].append(r["data_source"])
    return out


def to_dataproto(lists):
    import numpy as np  # lazy: verl's environment has them
    import torch
    from verl import DataProto

    tensors = {k: torch.tensor(v) for k, v in lists.items() if k not in ("uid", "data_source")}
    non_tensors = {"uid": np.array(lists["uid"], dtype=object), "data_source": np.array(lists["data_source"], dtype=object)}
    return DataProto.from_dict(tensors=tensors, non_tensors=non_tensors)
