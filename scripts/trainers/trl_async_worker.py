#!/usr/bin/env python3
"""TRL AsyncGRPOTrainer rollout worker fed by the grpo-exchange/v1 server (trainer-contract.md §3, §10.7).

UNTESTED HERE: needs GPUs and TRL (with trl.experimental.async_grpo) installed. Only the row conversion is plain Python;
TRL is imported lazily inside functions, so this file compiles and the conversion can be unit-tested without TRL.

TRL's AsyncGRPOTrainer takes a custom `rollout_worker` implementing RolloutWorkerProtocol: `rollout_buffer` (a queue of
RolloutSample), `start()`, `stop()`, `update_model_version(v)` (called after every weight sync) and
`check_health(stale_after_s)`. RolloutSample.advantage is used as-is, so TRL trains on our advantages unchanged.

Mapping per row: completion_mask = loss_mask, old_log_probs = logprobs (0.0 off the mask, as TRL expects),
model_version = policy_version_start (TRL drops samples older than max_staleness by it), group_id = group_id hashed to
int64. Acks: a step is acked "trained" once all its samples are in the buffer, because the worker cannot see when TRL's
optimizer step runs; TRL's own staleness drop may still discard some of them.

Check the RolloutSample import path and fields against your TRL version.
"""

import hashlib
import json
import os
import queue
import sys
import threading
import time
import urllib.parse

# The shared client and checks live next to this file; TRL imports this module from anywhere.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_consumer import Client, HttpFailure, now_iso, verify_step  # noqa: E402


def group_id_to_int64(group_id):
    """Stable signed int64 from the string group id (TRL's RolloutSample.group_id is an int)."""
    return int.from_bytes(hashlib.sha256(group_id.encode("utf-8")).digest()[:8], "big", signed=True)


def split_messages(messages):
    """Prompt = messages before the first assistant turn; completion = the rest (TRL stores both as messages)."""
    for i, m in enumerate(messages):
        if m.get("role") == "assistant":
            return messages[:i], messages[i:]
    return messages, []


def rows_to_sample_dicts(payload):
    """One dict per row with RolloutSample's fields; pure Python, no TRL needed."""
    out = []
    for g in payload["groups"]:
        gid = group_id_to_int64(g["group_id"])
        for r in g["samples"]:
            prompt, completion = split_messages(json.loads(r["messages_json"]))
            out.append(
                {
                    "prompt": prompt,
                    "completion": completion,
                    "input_ids": r["input_ids"],
                    "completion_mask": r["loss_mask"],
                    "old_log_probs": r["logprobs"],
                    "advantage": r["advantage"],
                    "model_version": r["policy_version_start"],
                    "group_id": gid,
                    "metrics": {"reward": r["reward"], "step": r["step"], "sample_idx": r["sample_idx"]},
                }
            )
    return out


def to_rollout_samples(dicts):
    from trl.experimental.async_grpo import RolloutSample  # lazy: needs TRL; verify the path in your version

    return [RolloutSample(**d) for d in dicts]


class ExchangeRolloutWorker:
    """RolloutWorkerProtocol over HTTP: a thread long-polls steps and fills `rollout_buffer`."""

    def __init__(self, url, consumer, token=None, wait_s=30.0, max_buffered=4096):
        self.client = Client(url, token)
        self.consumer = consumer
        self.wait_s = wait_s
        self.rollout_buffer = queue.Queue(maxsize=max_buffered)
        self._stop = threading.Event()
        self._thread = None
        self._last_ok = time.monotonic()
        self.error = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, name="grpo-exchange-worker", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_s + 35)

    def update_model_version(self, version):
        # NCCL sync keeps the served model name, so only the version is reported.
        try:
            self.client.request("POST", "/v1/policy", {"version": int(version), "source": "nccl", "synced_at": now_iso()})
        except HttpFailure as e:
            if e.status != 409:  # 409: the orchestrator already knows a newer version
                raise

    def check_health(self, stale_after_s):
        return self.error is None and time.monotonic() - self._last_ok < stale_after_s

    def _loop(self):
        q = urllib.parse.urlencode({"consumer": self.consumer, "wait_s": self.wait_s})
        while not self._stop.is_set():
            try:
                status, payload = self.client.request("GET", f"/v1/rollouts/next?{q}", timeout=self.wait_s + 30)
                self._last_ok = time.monotonic()
                if status == 204 or payload is None:
                    continue
                verify_step(payload, None)
                for s in to_rollout_samples(rows_to_sample_dicts(payload)):
                    self.rollout_buffer.put(s)  # blocks while TRL is behind: back-pressure instead of memory growth
                self.client.request(
                    "POST",
                    f"/v1/rollouts/{payload['step']}/ack",
                    {"consumer": self.consumer, "status": "trained", "trained_policy_version": None, "metrics": {"queued": True}},
                )
            except Exception as e:  # recorded for check_health; the trainer decides whether to stop
                self.error = e
                return
