#!/usr/bin/env python3
"""TRL AsyncGRPOTrainer rollout worker fed by the grpo-exchange/v1 server (trainer-contract.md §3, §10.7). TRL 1.13.

Where TRL 1.13 keeps what this file uses (the package __init__ exports only AsyncGRPOConfig and AsyncGRPOTrainer):
- trl.experimental.async_grpo.async_rollout_worker.RolloutSample, a slots dataclass:
  prompt: list[dict] (messages), completion: list[dict] (messages), input_ids: list[int] (prompt included),
  completion_mask: list[int] (1 = train), old_log_probs: list[float] (logprob of input_ids[i], 0.0 off the mask),
  advantage: float (used as-is), model_version: int, group_id: int, metrics: dict[str, float],
  enqueued_at: float | None = None.
- trl.experimental.async_grpo.async_grpo_trainer.RolloutWorkerProtocol: rollout_buffer and metrics_queue (queues),
  start(), stop(), update_model_version(v) (after every weight sync), check_health(stale_after_s) -> None, which must
  raise when the worker has failed or stalled.

Mapping per row: completion_mask = loss_mask, old_log_probs = logprobs, advantage = ours (TRL does not recompute it),
model_version = policy_version_start (TRL drops a sample once current - model_version > max_staleness),
group_id = the string group id hashed to a signed int64, prompt/completion = messages_json split before the first
assistant message. metrics holds floats only (TRL averages them with math.isnan): reward (NaN when unscorable) and
the group's reward_std.

The conversion (payload or parquet rows -> RolloutSample) is plain Python and needs no GPU; only RolloutSample itself
comes from TRL, imported when samples are built. Acks: a step is acked "trained" once all its samples are queued,
because the worker cannot see TRL's optimizer steps; TRL's staleness drop may still discard some of them.
"""

import hashlib
import json
import math
import os
import queue
import sys
import threading
import time
import urllib.parse

# The shared client and checks live next to this file; TRL imports this module from anywhere.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_consumer import Client, HttpFailure, now_iso, verify_step  # noqa: E402

ROLLOUT_SAMPLE_PATH = "trl.experimental.async_grpo.async_rollout_worker"
PROTOCOL_PATH = "trl.experimental.async_grpo.async_grpo_trainer"


def rollout_sample_class():
    """TRL's RolloutSample. Importing it loads the async_grpo package (aiohttp, accelerate, datasets, transformers)."""
    try:
        from trl.experimental.async_grpo.async_rollout_worker import RolloutSample
    except ImportError as e:
        raise ImportError(f"cannot import RolloutSample from {ROLLOUT_SAMPLE_PATH} (TRL 1.13 keeps it there): {e}") from e
    return RolloutSample


def group_id_to_int64(group_id):
    """Stable signed int64 from the string group id (TRL's RolloutSample.group_id is an int)."""
    return int.from_bytes(hashlib.sha256(group_id.encode("utf-8")).digest()[:8], "big", signed=True)


def split_messages(messages):
    """Prompt = messages before the first assistant turn; completion = the rest (TRL stores both as messages)."""
    for i, m in enumerate(messages):
        if m.get("role") == "assistant":
            return messages[:i], messages[i:]
    return messages, []


def _reward_std(rows):
    scored = [r["reward"] for r in rows if r["reward"] is not None]
    if not scored:
        return math.nan
    mu = sum(scored) / len(scored)
    return math.sqrt(sum((x - mu) ** 2 for x in scored) / len(scored))  # population, as TRL's own worker logs it


def row_to_sample_dict(row, group_id_int, reward_std):
    """RolloutSample's fields for one grpo-exchange row, with the types the dataclass declares."""
    n = len(row["input_ids"])
    if len(row["loss_mask"]) != n or len(row["logprobs"]) != n:
        raise ValueError(f"group {row['group_id']} sample {row['sample_idx']}: token columns differ in length")
    prompt, completion = split_messages(json.loads(row["messages_json"]))
    reward = row["reward"]
    return {
        "prompt": prompt,
        "completion": completion,
        "input_ids": [int(t) for t in row["input_ids"]],
        "completion_mask": [int(m) for m in row["loss_mask"]],
        "old_log_probs": [float(x) for x in row["logprobs"]],
        "advantage": float(row["advantage"]),
        "model_version": int(row["policy_version_start"]),
        "group_id": group_id_int,
        "metrics": {"reward": math.nan if reward is None else float(reward), "reward_std": reward_std},
    }


def rows_to_sample_dicts(payload):
    """One dict per row of a step payload ({step, manifest, groups: [{group_id, samples: [row...]}]}); no TRL needed."""
    out = []
    for g in payload["groups"]:
        gid = group_id_to_int64(g["group_id"])
        # reward_std over the group's samples, counting each sample once even when it has several segments
        firsts = [r for r in g["samples"] if r.get("segment_idx", 0) == 0]
        std = _reward_std(firsts)
        for r in g["samples"]:
            out.append(row_to_sample_dict(r, gid, std))
    return out


def payload_from_rows(rows, manifest):
    """The GET /v1/rollouts/next payload shape built from rows read out of a step's part files, groups in order of
    first appearance, so parquet readers share verify_step and the conversion with the HTTP path."""
    groups = {}
    for r in rows:
        g = groups.get(r["group_id"])
        if g is None:
            g = groups[r["group_id"]] = {
                "group_id": r["group_id"],
                "group_size": r["group_size"],
                "prompt_uid": r["prompt_uid"],
                "data_source": r["data_source"],
                "samples": [],
            }
        g["samples"].append(r)
    return {"step": manifest["step"], "manifest": manifest, "groups": list(groups.values())}


def read_step(step_dir):
    """A committed step directory (rollouts/step=N/) as a payload. Reads only the files the manifest lists, each part
    on its own (no hive partitioning, which would turn `step` into a string column)."""
    import pyarrow.parquet as pq

    if not os.path.exists(os.path.join(step_dir, "_SUCCESS")):
        raise ValueError(f"{step_dir} has no _SUCCESS: the step is not committed")
    with open(os.path.join(step_dir, "_MANIFEST.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    rows = []
    for f in manifest["files"]:
        rows.extend(pq.read_table(os.path.join(step_dir, f["name"])).to_pylist())
    return payload_from_rows(rows, manifest)


def to_rollout_samples(dicts, enqueued_at=None):
    RolloutSample = rollout_sample_class()
    return [RolloutSample(**d, enqueued_at=enqueued_at) for d in dicts]


def payload_to_rollout_samples(payload, root=None, enqueued_at=None):
    """Verifies a step (reference_consumer.verify_step; with `root`, also the part files' sha256) and returns TRL
    RolloutSamples for all its rows."""
    verify_step(payload, root)
    return to_rollout_samples(rows_to_sample_dicts(payload), enqueued_at=enqueued_at)


class ExchangeRolloutWorker:
    """RolloutWorkerProtocol over HTTP: a thread long-polls steps and fills `rollout_buffer`. Pass it to
    AsyncGRPOTrainer(rollout_worker=...)."""

    def __init__(self, url, consumer, token=None, wait_s=30.0, max_buffered=4096):
        self.client = Client(url, token)
        self.consumer = consumer
        self.wait_s = wait_s
        self.rollout_buffer = queue.Queue(maxsize=max_buffered)
        self.metrics_queue = queue.Queue(maxsize=1024)  # drained by the trainer's log(); items are {key: float}
        self._stop = threading.Event()
        self._thread = None
        self._last_ok = time.monotonic()
        self.error = None
        self.steps_queued = []

    def start(self):
        self._last_ok = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="grpo-exchange-worker", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.wait_s + 35)

    def update_model_version(self, model_version):
        # NCCL sync keeps the served model name, so only the version is reported.
        try:
            self.client.request("POST", "/v1/policy", {"version": int(model_version), "source": "nccl", "synced_at": now_iso()})
        except HttpFailure as e:
            if e.status != 409:  # 409: the orchestrator already knows a newer version
                raise

    def check_health(self, stale_after_s):
        """Raises, as TRL expects, when the thread died or no server answer came within stale_after_s."""
        if self.error is not None:
            raise RuntimeError(f"grpo-exchange worker failed: {self.error!r}") from self.error
        age = time.monotonic() - self._last_ok
        if age > stale_after_s:
            raise RuntimeError(f"grpo-exchange worker has had no answer from the server for {age:.0f}s > {stale_after_s:.0f}s")

    def _put_metrics(self, values):
        try:
            self.metrics_queue.put_nowait(values)
        except queue.Full:  # a trainer that stops logging must not block rollouts
            pass

    def _loop(self):
        q = urllib.parse.urlencode({"consumer": self.consumer, "wait_s": self.wait_s})
        while not self._stop.is_set():
            try:
                status, payload = self.client.request("GET", f"/v1/rollouts/next?{q}", timeout=self.wait_s + 30)
                self._last_ok = time.monotonic()
                if status == 204 or payload is None:
                    continue
                samples = payload_to_rollout_samples(payload, enqueued_at=time.time())
                for s in samples:
                    self.rollout_buffer.put(s)  # blocks while TRL is behind: back-pressure instead of memory growth
                    self._last_ok = time.monotonic()  # a full buffer is the trainer's lag, not a dead server
                self.client.request(
                    "POST",
                    f"/v1/rollouts/{payload['step']}/ack",
                    {"consumer": self.consumer, "status": "trained", "trained_policy_version": None, "metrics": {"queued": len(samples)}},
                )
                self.steps_queued.append(payload["step"])
                self._put_metrics({"exchange/step": float(payload["step"]), "exchange/samples_queued_total": float(len(samples))})
            except Exception as e:  # recorded for check_health, which raises it in the trainer
                self.error = e
                return
