#!/usr/bin/env python3
"""A torch GRPO trainer for grpo-exchange/v1 and the decision-policy test double (CPU, minutes).

  python torch_grpo.py (--url http://127.0.0.1:PORT | --root EXCHANGE_ROOT) --ckpt DIR [--consumer torch-grpo]
      [--policy-server http://127.0.0.1:8410] [--steps N] [--init-seed 0] [--lr 0.02] [--clip 0.2] [--clip-high 0.28]
      [--ppo-epochs 1] [--temperature 1.0] [--max-staleness K] [--negate-advantage] [--wait-s 30]

Per step: read the committed step (HTTP long-poll or the files under --root), train on input_ids / loss_mask /
logprobs / advantage exactly as stored (no text is read or re-tokenised), write the new weights and then the
checkpoint (atomic; it records the step), load them into the policy server, publish the version to the exchange,
ack. Killed anywhere and restarted, it resumes from the checkpoint: a step the checkpoint already holds is only
re-published and re-acked, never trained again.

Loss, per token t of row r with loss_mask 1 (verl `token-mean`, DAPO-style asymmetric clip, no KL):
  ratio = exp(logp_new(t) - logp_sampler(t));  A = advantage(r)  (× -1 with --negate-advantage, the control run)
  loss  = mean over all such tokens of  -min(ratio·A, clip(ratio, 1-clip, 1+clip_high)·A)
stdout: JSON lines: "trained" at the checkpoint (once per step, across restarts), "acked" after the ack, "replayed" for a
step trained before a kill and only published/acked now; exit 0 when --steps are acked.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import time
import urllib.parse

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decision_policy as dp  # noqa: E402
from reference_consumer import Client, HttpFailure, emit, now_iso  # noqa: E402

torch.set_num_threads(1)
_stop = False


def http(method: str, url: str, body=None, token=None, timeout=60.0):
    """One JSON request with the reference consumer's client: connection failures are retried (a server starting or
    restarting), an HTTP answer never is."""
    return Client(url, token).request(method, "", body, timeout=timeout)


# ---------------------------------------------------------------- the exchange: HTTP or files


class HttpExchange:
    def __init__(self, url, consumer, token, wait_s):
        self.url, self.consumer, self.token, self.wait_s = url.rstrip("/"), consumer, token, wait_s

    def next_step(self):
        q = urllib.parse.urlencode({"consumer": self.consumer, "wait_s": self.wait_s})
        status, payload = http("GET", f"{self.url}/v1/rollouts/next?{q}", token=self.token, timeout=self.wait_s + 30)
        if status == 204 or payload is None:
            return None
        rows = [r for g in payload["groups"] for r in g["samples"]]
        return payload["step"], payload["manifest"], rows

    def all_acked(self, steps):
        _, st = http("GET", f"{self.url}/v1/rollouts/status?" + urllib.parse.urlencode({"consumer": self.consumer}), token=self.token)
        committed, unacked = set(st["committed"]), set(st["unacked"])
        return all(s in committed and s not in unacked for s in range(steps))

    def publish(self, version, path):
        try:
            http("POST", f"{self.url}/v1/policy", {"version": version, "source": "disk", "path": path, "synced_at": now_iso()}, token=self.token)
        except HttpFailure as e:
            if e.status != 409:  # 409: the exchange is already past this version; the ack still says what we trained
                raise

    def ack(self, step, entry):
        http("POST", f"{self.url}/v1/rollouts/{step}/ack", {
            "consumer": self.consumer, "status": "trained", "trained_policy_version": entry["version"],
            "rows_used": entry["rows_used"], "rows_dropped": entry["rows_dropped"], "metrics": entry["metrics"],
        }, token=self.token)


class FileExchange:
    """The same protocol over the files alone (§10.1, §10.4): committed steps have _SUCCESS; acks are files."""

    def __init__(self, root, consumer, wait_s):
        self.root, self.consumer, self.wait_s = root, consumer, wait_s

    def _committed(self):
        d = os.path.join(self.root, "rollouts")
        out = []
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.startswith("step=") and not name.endswith(".tmp") and os.path.exists(os.path.join(d, name, "_SUCCESS")):
                out.append(int(name[5:]))
        return sorted(out)

    def _ack_path(self, step):
        return os.path.join(self.root, "acks", f"step={step:06d}.{self.consumer}.json")

    def next_step(self):
        deadline = time.time() + self.wait_s
        while True:
            todo = [s for s in self._committed() if not os.path.exists(self._ack_path(s))]
            if todo:
                return (todo[0], *read_step_files(os.path.join(self.root, "rollouts", f"step={todo[0]:06d}")))
            if time.time() >= deadline or _stop:
                return None
            time.sleep(0.2)

    def all_acked(self, steps):
        return all(os.path.exists(self._ack_path(s)) for s in range(steps))

    def publish(self, version, path):
        # Mirrors grpo/exchange/policy-store.ts publishPolicy: history line first, then current.json atomically;
        # versions never go backwards. (Contract question: §10.6 makes the orchestrator the only writer of policy/.)
        cur_path = os.path.join(self.root, "policy", "current.json")
        try:
            with open(cur_path) as fh:
                cur = json.load(fh)
        except FileNotFoundError:
            cur = None
        if cur is not None and cur["version"] >= version:
            return
        pol = {"version": version, "served_model": (cur or {}).get("served_model", "policy"), "updated_at": now_iso(), "source": "disk", "path": path}
        os.makedirs(os.path.dirname(cur_path), exist_ok=True)
        with open(os.path.join(self.root, "policy", "history.jsonl"), "a") as fh:
            fh.write(json.dumps(pol) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        dp.atomic_write_bytes(cur_path, (json.dumps(pol, indent=2) + "\n").encode())

    def ack(self, step, entry):
        ack = {"consumer": self.consumer, "step": step, "status": "trained", "consumed_at": now_iso(),
               "trained_policy_version": entry["version"], "rows_used": entry["rows_used"], "rows_dropped": entry["rows_dropped"], "metrics": entry["metrics"]}
        final = self._ack_path(step)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = f"{os.path.dirname(final)}/.{os.path.basename(final)}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            json.dump(ack, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, final)  # appears once, atomically; an existing ack (a replay) is left as it is
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)


def read_step_files(step_dir):
    """Manifest-listed part files only, verified (rows, sha256), read with pyarrow without Hive partitioning."""
    import pyarrow.parquet as pq

    with open(os.path.join(step_dir, "_MANIFEST.json")) as fh:
        manifest = json.load(fh)
    rows = []
    for f in manifest["files"]:
        p = os.path.join(step_dir, f["name"])
        with open(p, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        if digest != f["sha256"]:
            raise SystemExit(f"{p}: sha256 {digest} differs from the manifest's {f['sha256']}")
        part = pq.read_table(p).to_pylist()
        if len(part) != f["rows"]:
            raise SystemExit(f"{p}: {len(part)} rows, the manifest says {f['rows']}")
        rows.extend(part)
    return manifest, rows


# ---------------------------------------------------------------- training


def batch_of(rows, current_version, max_staleness):
    """Tensors for the rows that train: ids [B, L] (PAD-filled), mask, sampler logprobs, advantages."""
    used, dropped = [], 0
    for r in rows:
        ids, mask, lps = r["input_ids"], r["loss_mask"], r["logprobs"]
        if not (len(ids) == len(mask) == len(lps)):
            raise SystemExit(f"row {r.get('group_id')}/{r.get('sample_idx')}: input_ids, loss_mask, logprobs differ in length")
        if sum(mask) == 0 or (max_staleness is not None and current_version - r["policy_version_start"] > max_staleness):
            dropped += 1  # a failed sample (no tokens) or a stale one: nothing to train on
            continue
        dp.check_sequence(list(ids))
        used.append(r)
    if not used:
        return None, dropped
    L = max(len(r["input_ids"]) for r in used)
    pad = lambda xs, v: list(xs) + [v] * (L - len(xs))  # noqa: E731
    ids = torch.tensor([pad(r["input_ids"], dp.PAD) for r in used], dtype=torch.long)
    mask = torch.tensor([pad(r["loss_mask"], 0) for r in used], dtype=dp.DTYPE)
    old = torch.tensor([pad(r["logprobs"], 0.0) for r in used], dtype=dp.DTYPE)
    adv = torch.tensor([float(r["advantage"]) for r in used], dtype=dp.DTYPE)
    return {"ids": ids, "mask": mask, "old": old, "adv": adv, "rows": len(used)}, dropped


def grpo_loss(model, b, clip, clip_high, temperature, sign):
    new = dp.token_logprobs(model, b["ids"], temperature)
    ratio = torch.exp((new - b["old"]) * b["mask"])  # 1 off the mask, where old is 0.0 by contract
    a = (sign * b["adv"]).unsqueeze(1)
    surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 1 - clip, 1 + clip_high) * a)
    n = b["mask"].sum()
    loss = -(surrogate * b["mask"]).sum() / n
    with torch.no_grad():
        dev = ((ratio - 1).abs() * b["mask"]).max().item()
        clipped = (((ratio < 1 - clip) | (ratio > 1 + clip_high)).to(dp.DTYPE) * b["mask"]).sum().item() / n.item()
    return loss, {"max_abs_ratio_minus_1": dev, "clip_frac": clipped, "tokens": int(n.item())}


def load_checkpoint(ckpt_dir, init_seed, lr):
    model = dp.make_policy(init_seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    path = os.path.join(ckpt_dir, "trainer.ckpt")
    state = {"version": 0, "last_trained_step": -1, "steps": {}}
    if os.path.exists(path):
        blob = torch.load(path, map_location="cpu", weights_only=False)
        model.load_state_dict(blob["model"])
        opt.load_state_dict(blob["optimizer"])
        state = blob["state"]
    return model, opt, state


def save_checkpoint(ckpt_dir, model, opt, state):
    dp.atomic_write_bytes(os.path.join(ckpt_dir, "trainer.ckpt"), dp.torch_bytes({"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state}))


def weights_path(ckpt_dir, version):
    return os.path.abspath(os.path.join(ckpt_dir, "weights", f"policy-v{version:06d}.pt"))


def server_root(url):
    """Accepts the policy server's base URL with or without the /v1 the gateway config uses."""
    u = url.rstrip("/")
    return u[:-3] if u.endswith("/v1") else u


def sync_policy_server(url, version, path):
    """Makes the policy server serve `version` before the exchange hears of it, so no sample of version v comes from older weights."""
    try:
        http("POST", f"{server_root(url)}/v1/policy", {"version": version, "path": path})
    except HttpFailure as e:
        if e.status != 409:
            raise
        _, info = http("GET", f"{server_root(url)}/v1/policy")
        if info["version"] < version:
            raise


def finish(ex, args, step, entry):
    if args.policy_server:
        sync_policy_server(args.policy_server, entry["version"], entry["path"])
    ex.publish(entry["version"], entry["path"])
    ex.ack(step, entry)


def on_sigterm(signum, frame):
    global _stop
    _stop = True


def run(args) -> int:
    signal.signal(signal.SIGTERM, on_sigterm)
    os.makedirs(args.ckpt, exist_ok=True)
    model, opt, state = load_checkpoint(args.ckpt, args.init_seed, args.lr)
    if state["version"] == 0 and not os.path.exists(weights_path(args.ckpt, 0)):
        dp.save_weights(model, weights_path(args.ckpt, 0), 0)
    token = args.token or os.environ.get("GRPO_EXCHANGE_TOKEN")
    ex = HttpExchange(args.url, args.consumer, token, args.wait_s) if args.url else FileExchange(args.root, args.consumer, args.wait_s)
    if args.policy_server:
        _, info = http("GET", f"{server_root(args.policy_server)}/v1/policy")
        if info["version"] == state["version"] and info["fingerprint"] != dp.fingerprint(model):
            raise SystemExit(f"the policy server serves version {info['version']} with weights {info['fingerprint']}, the trainer holds {dp.fingerprint(model)}: start both from the same --init-seed or weights")
    emit({"event": "started", "version": state["version"], "last_trained_step": state["last_trained_step"], "fingerprint": dp.fingerprint(model)}, sys.stderr)
    sign = -1.0 if args.negate_advantage else 1.0
    while not _stop:
        if args.steps is not None and ex.all_acked(args.steps):
            emit({"event": "done", "steps": args.steps, "version": state["version"]}, sys.stderr)
            return 0
        got = ex.next_step()
        if got is None:
            continue
        step, manifest, rows = got
        key = str(step)
        if step <= state["last_trained_step"]:
            entry = state["steps"].get(key)
            if entry is None:
                raise SystemExit(f"step {step} is below the last trained step {state['last_trained_step']} but was never trained here; refusing to train out of order")
            finish(ex, args, step, entry)  # trained before a kill: re-publish (idempotent) and ack, no training
            emit({"event": "replayed", "step": step, "version": entry["version"]})
            if args.steps is not None and step >= args.steps - 1:
                return 0
            continue
        if step != state["last_trained_step"] + 1 and state["last_trained_step"] >= 0:
            emit({"event": "warning", "message": f"step {step} follows {state['last_trained_step']}: steps were skipped"}, sys.stderr)
        t0 = time.time()
        version_now = state["version"]
        b, dropped = batch_of(rows, version_now, args.max_staleness)
        metrics = {"trainer": "decision-policy-grpo", "negate_advantage": args.negate_advantage}
        if b is not None:
            torch.manual_seed(hash((args.init_seed, step)) & 0x7FFFFFFF)
            for epoch in range(args.ppo_epochs):
                opt.zero_grad()
                loss, m = grpo_loss(model, b, args.clip, args.clip_high, args.temperature, sign)
                if epoch == 0:
                    metrics.update({"loss_first": loss.item(), "ratio_dev_first": m["max_abs_ratio_minus_1"], "tokens": m["tokens"]})
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
                opt.step()
            metrics.update({"loss_last": loss.item(), "clip_frac_last": m["clip_frac"]})
        rewards = [r["reward"] for r in rows if r.get("reward") is not None]
        metrics["reward_mean"] = sum(rewards) / len(rewards) if rewards else None
        version = version_now + 1
        path = weights_path(args.ckpt, version)
        dp.save_weights(model, path, version)  # 1. the weights the new version names
        entry = {"version": version, "path": path, "rows_used": b["rows"] if b else 0, "rows_dropped": dropped, "metrics": metrics}
        state = {"version": version, "last_trained_step": step, "steps": {**state["steps"], key: entry}}
        save_checkpoint(args.ckpt, model, opt, state)  # 2. the commit point: from here on step is trained
        # Printed at the commit point, so each step has exactly one "trained" line across restarts.
        emit({"event": "trained", "step": step, "version": version, "rows": entry["rows_used"], "dropped": dropped, "seconds": round(time.time() - t0, 3), **metrics})
        if args.crash_after_checkpoint == step:
            os.kill(os.getpid(), signal.SIGKILL)  # test hook: a kill between checkpoint and ack
        finish(ex, args, step, entry)  # 3. policy server, exchange, ack
        emit({"event": "acked", "step": step, "version": version})
        if args.steps is not None and step >= args.steps - 1:
            # Steps are handed out lowest unacked first, so every earlier one is acked; the orchestrator may close now.
            emit({"event": "done", "steps": args.steps, "version": version}, sys.stderr)
            return 0
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="the grpo exchange HTTP server")
    src.add_argument("--root", help="the exchange root, files only")
    ap.add_argument("--consumer", default="torch-grpo")
    ap.add_argument("--token", default=None)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--policy-server", default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--init-seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--clip", type=float, default=0.2)
    ap.add_argument("--clip-high", type=float, default=0.28)
    ap.add_argument("--ppo-epochs", type=int, default=1)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--temperature", type=float, default=1.0, help="must equal models.policy.sampling.temperature")
    ap.add_argument("--max-staleness", type=int, default=None)
    ap.add_argument("--negate-advantage", action="store_true", help="the control run: every advantage × -1")
    ap.add_argument("--wait-s", type=float, default=30)
    ap.add_argument("--crash-after-checkpoint", type=int, default=None, help=argparse.SUPPRESS)
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
