#!/usr/bin/env python3
"""Reference grpo-exchange/v1 consumer: long-polls committed rollout steps, verifies them, acks, bumps the policy version.

Standard library only. It trains nothing: it is the executable form of what a real trainer adapter must do with each step
(trainer-contract.md §10.4 and §10.6), and the test double for the orchestrator's exchange server.

    python3 reference_consumer.py --url http://127.0.0.1:PORT --consumer NAME \
        [--token T | env GRPO_EXCHANGE_TOKEN] [--max-steps N | --steps N] [--root RUN_ROOT] [--state FILE] [--wait-s 30]

Per step it checks the manifest totals, group integrity (exactly G samples per group, segments that agree), the advantage
statistics, and recomputes every advantage from the rewards with the manifest's settings (grpo / dr_grpo / rloo,
unbiased / population std, eps, group / batch / none scaling), independently of the TypeScript producer. With --root it
also checks each part file's size and sha256 on disk. A failed check exits with status 3 and acks nothing.

Exactly-once: the server hands out the lowest step this consumer has not acked, and acks are written once. The state
file closes the remaining gap: a step is recorded as trained (with the policy version it produced) before the policy
POST and the ack, so a consumer killed in between finishes that step on restart without training it again.

Output: one JSON line on stdout per step consumed ({"event": "consumed", ...}); a step finished after a restart prints
{"event": "acked", "replayed": true, ...}. stderr gets JSON lines too: {"event": "started"} once the SIGTERM handler is
installed, {"event": "done", ...} when --steps finds nothing left, and {"event": "error", ...} before a failing exit. Exit: 0 done or SIGTERM, 1 transport or server error,
2 usage, 3 the step failed verification.
"""

import argparse
import hashlib
import json
import math
import os
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

SCHEMA = "grpo-exchange/v1"
EXIT_SERVER = 1
EXIT_USAGE = 2
EXIT_INVALID = 3


class ContractError(Exception):
    """The step breaks grpo-exchange/v1; training on it would be wrong."""


class Stop(BaseException):
    """Raised by the SIGTERM handler while idle; BaseException so library code that catches Exception lets it through."""


class HttpFailure(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


_stopping = False
_in_step = False


def _on_sigterm(signum, frame):
    global _stopping
    _stopping = True
    # Mid-step, finish the step (state, policy, ack) so nothing is left half done; idle, stop now.
    if not _in_step:
        raise Stop()


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def emit(obj, stream=None):
    print(json.dumps(obj, sort_keys=True), file=stream or sys.stdout, flush=True)


# ---------------------------------------------------------------- HTTP


class Client:
    def __init__(self, base_url, token):
        self.base = base_url.rstrip("/")
        self._token = token  # never printed

    def request(self, method, path, body=None, timeout=30.0, retries=20):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        if self._token:
            headers["authorization"] = "Bearer " + self._token
        delay = 0.1
        for attempt in range(retries + 1):
            req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    raw = resp.read()
                    return resp.status, (json.loads(raw) if raw else None)
            except urllib.error.HTTPError as e:
                raw = e.read()
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = raw.decode("utf-8", "replace")[:500]
                raise HttpFailure(e.code, parsed) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                # The server may still be starting or restarting: retry connection failures only, never an HTTP answer.
                if attempt == retries:
                    raise HttpFailure(0, f"cannot reach {self.base}: {e}") from None
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")


# ---------------------------------------------------------------- advantages (independent of the TypeScript producer)


def std(values, kind):
    n = len(values)
    mu = sum(values) / n
    ss = sum((v - mu) ** 2 for v in values)
    if kind == "unbiased":
        return math.sqrt(ss / (n - 1)) if n > 1 else 0.0
    return math.sqrt(ss / n)


def expected_advantages(rewards, settings, batch_sigma):
    """Advantages of one group's samples per trainer-contract.md §8. Unscorable (None) samples get 0 and are left out of
    the group statistics. Returns a list of candidate vectors: one, or two when a lone scored sample could follow either
    documented convention (verl: mean 0 and std 1; TRL/ART: 0) and the manifest does not say which."""
    est, eps, scale = settings["estimator"], settings["eps"], settings["scale"]
    scored = [r for r in rewards if r is not None]
    n = len(scored)
    if n == 0:
        return [[0.0] * len(rewards)]
    if n == 1:
        single = settings.get("singleton")
        if single == "reject":
            raise ContractError("a group has one scored sample, but the manifest's advantage.singleton is 'reject'")
        verl = [0.0 if r is None else (r / (1.0 + eps) if est == "grpo" and scale != "none" else r) for r in rewards]
        zero = [0.0] * len(rewards)
        return [verl] if single == "verl" else [zero] if single == "zero" else [verl, zero]
    if all(r == scored[0] for r in scored):
        # An all-equal group is exactly 0 (§8), not (r - mean)/eps of a mean that float rounding left a hair off.
        return [[0.0] * len(rewards)]
    mu = sum(scored) / n
    out = []
    for r in rewards:
        if r is None:
            out.append(0.0)
        elif est == "rloo":
            out.append(r - (sum(scored) - r) / (n - 1))
        elif est == "dr_grpo" or scale == "none":
            out.append(r - mu)
        else:
            # group: this group's std; batch: the std of every scored reward in the step (TRL), centred per group.
            scale_by = (std(scored, settings["std"]) if scale == "group" else batch_sigma) + eps
            if scale_by == 0.0:
                raise ContractError(f"advantage settings divide by zero for rewards {rewards} (eps is 0)")
            out.append((r - mu) / scale_by)
    return [out]


def close_enough(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


# ---------------------------------------------------------------- verification


def verify_step(payload, root):
    """Raises ContractError on the first violation; returns a summary dict."""
    step = payload.get("step")
    m = payload.get("manifest") or {}
    groups = payload.get("groups")
    if m.get("schema") != SCHEMA:
        raise ContractError(f"manifest schema is {m.get('schema')!r}, expected {SCHEMA!r}")
    if m.get("step") != step:
        raise ContractError(f"manifest step {m.get('step')} differs from payload step {step}")
    if not isinstance(groups, list):
        raise ContractError("payload has no groups list")
    files = m.get("files") or []
    if sum(f["rows"] for f in files) != m["num_rows"]:
        raise ContractError(f"manifest files hold {sum(f['rows'] for f in files)} rows, num_rows says {m['num_rows']}")
    if len(groups) != m["num_groups"]:
        raise ContractError(f"{len(groups)} groups served, manifest num_groups says {m['num_groups']}")
    G = m["group_size"]
    settings = m["advantage"]
    for key in ("estimator", "std", "eps", "scale", "filter"):
        if key not in settings:
            raise ContractError(f"manifest advantage settings lack {key!r}")
    if settings["estimator"] not in ("grpo", "dr_grpo", "rloo") or settings["std"] not in ("unbiased", "population"):
        raise ContractError(f"unknown advantage settings {settings}")

    n_rows = 0
    group_rewards = []  # per group: list of (reward, advantage) per sample
    versions = []
    for g in groups:
        gid = g["group_id"]
        if g["group_size"] != G:
            raise ContractError(f"group {gid} has group_size {g['group_size']}, the manifest {G}")
        by_sample = {}
        for row in g["samples"]:
            n_rows += 1
            if row["group_id"] != gid or row["step"] != step or row["run_id"] != m["run_id"]:
                raise ContractError(f"group {gid}: a row belongs to group {row['group_id']}, step {row['step']}, run {row['run_id']}")
            if row["group_size"] != G:
                raise ContractError(f"group {gid}: a row says group_size {row['group_size']}")
            n = len(row["input_ids"])
            if len(row["loss_mask"]) != n or len(row["logprobs"]) != n:
                raise ContractError(f"group {gid} sample {row['sample_idx']}: token columns differ in length")
            if any(mk == 0 and lp != 0 for mk, lp in zip(row["loss_mask"], row["logprobs"])):
                raise ContractError(f"group {gid} sample {row['sample_idx']}: non-zero logprob outside the loss mask")
            by_sample.setdefault(row["sample_idx"], []).append(row)
            versions.append((row["policy_version_start"], row["policy_version_end"]))
        if sorted(by_sample) != list(range(G)):
            raise ContractError(f"group {gid} has samples {sorted(by_sample)}, expected exactly 0..{G - 1}")
        pairs = []
        for idx in range(G):
            segs = sorted(by_sample[idx], key=lambda r: r["segment_idx"])
            if [s["segment_idx"] for s in segs] != list(range(len(segs))):
                raise ContractError(f"group {gid} sample {idx}: segments are not 0..k-1")
            if any(s["reward"] != segs[0]["reward"] or s["advantage"] != segs[0]["advantage"] for s in segs):
                raise ContractError(f"group {gid} sample {idx}: segments disagree on reward or advantage")
            pairs.append((segs[0]["reward"], segs[0]["advantage"]))
        group_rewards.append((gid, pairs))
    if n_rows != m["num_rows"]:
        raise ContractError(f"{n_rows} rows served, manifest num_rows says {m['num_rows']}")
    if len(groups) * G != m["num_samples"]:
        raise ContractError(f"{len(groups) * G} samples served, manifest num_samples says {m['num_samples']}")
    if versions and (min(v[0] for v in versions) != m["policy_version_min"] or max(v[1] for v in versions) != m["policy_version_max"]):
        raise ContractError("policy_version_min/max disagree with the rows")

    all_scored = [r for _, pairs in group_rewards for r, _ in pairs if r is not None]
    batch_sigma = std(all_scored, settings["std"]) if all_scored else 0.0
    worst = 0.0
    for gid, pairs in group_rewards:
        rewards = [r for r, _ in pairs]
        got = [a for _, a in pairs]
        scored = [r for r in rewards if r is not None]
        # DAPO keeps a group whose scored rewards differ, or that has exactly one scored sample (verl keeps G = 1).
        if settings["filter"] == "dapo_nonzero_std" and len(scored) != 1 and (not scored or all(r == scored[0] for r in scored)):
            raise ContractError(f"group {gid} has all-equal (or no) scored rewards, but the manifest's filter drops such groups")
        candidates = expected_advantages(rewards, settings, batch_sigma)
        errs = [max(abs(a - b) for a, b in zip(got, want)) for want in candidates]
        if not any(all(close_enough(a, b) for a, b in zip(got, want)) for want in candidates):
            raise ContractError(f"group {gid}: advantages {got} do not follow {settings} for rewards {rewards} (expected {candidates[0]})")
        worst = max(worst, min(errs))

    advs = [a for _, pairs in group_rewards for _, a in pairs]
    if advs:
        mean = sum(advs) / len(advs)
        sd = math.sqrt(sum((a - mean) ** 2 for a in advs) / len(advs))
        stats = m["advantage_stats"]
        if not (close_enough(stats["mean"], mean) and close_enough(stats["std"], sd)):
            raise ContractError(f"advantage_stats {stats} disagree with the rows (mean {mean}, std {sd})")

    if root is not None:
        step_dir = os.path.join(root, "rollouts", "step=%06d" % step)
        for f in files:
            with open(os.path.join(step_dir, f["name"]), "rb") as fh:
                data = fh.read()
            if len(data) != f["bytes"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
                raise ContractError(f"step {step}: {f['name']} on disk does not match the manifest's size/sha256")

    return {"groups": len(groups), "rows": n_rows, "samples": len(groups) * G, "max_abs_advantage_error": worst}


# ---------------------------------------------------------------- state


def load_state(path, consumer):
    if path is None or not os.path.exists(path):
        return {"consumer": consumer, "steps": {}}
    with open(path, "r", encoding="utf-8") as fh:
        state = json.load(fh)
    if state.get("consumer") != consumer:
        raise SystemExit(f"state file {path} belongs to consumer {state.get('consumer')!r}, not {consumer!r}")
    return state


def save_state(path, state):
    if path is None:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)  # atomic: a kill leaves the old state or the new one, never half of one


# ---------------------------------------------------------------- main loop


def current_policy_version(client):
    try:
        _, policy = client.request("GET", "/v1/policy")
        return policy["version"]
    except HttpFailure as e:
        if e.status == 404:
            return 0  # nothing published yet: the base model counts as version 0
        raise


def finish_step(client, args, step, entry):
    """Publishes the step's policy version and acks the step; safe to repeat after a crash."""
    body = {"version": entry["policy_version"], "source": "disk", "synced_at": now_iso()}
    try:
        client.request("POST", "/v1/policy", body)
    except HttpFailure as e:
        # 409: another writer is already past this version. The ack below still records what this consumer trained.
        if e.status != 409:
            raise
    client.request(
        "POST",
        f"/v1/rollouts/{step}/ack",
        {
            "consumer": args.consumer,
            "status": "trained",
            "trained_policy_version": entry["policy_version"],
            "rows_used": entry["rows_used"],
            "rows_dropped": entry["rows_dropped"],
            "metrics": {"trainer": "reference_consumer", "max_abs_advantage_error": entry["max_abs_advantage_error"]},
        },
    )


def all_acked(client, consumer, steps):
    """True once the server reports steps 0..steps-1 committed and acked by `consumer`. Asked of the server rather than
    counted here, so acks from an earlier process (a restart, a resumed run) count too."""
    _, status = client.request("GET", "/v1/rollouts/status?" + urllib.parse.urlencode({"consumer": consumer}))
    committed = set(status["committed"])
    unacked = set(status["unacked"])
    return all(s in committed and s not in unacked for s in range(steps))


def run(args):
    global _in_step
    client = Client(args.url, args.token)
    state = load_state(args.state, args.consumer)
    done = 0
    query = urllib.parse.urlencode({"consumer": args.consumer, "wait_s": args.wait_s})
    while not _stopping and (args.max_steps is None or done < args.max_steps):
        if args.steps is not None and all_acked(client, args.consumer, args.steps):
            emit({"event": "done", "consumer": args.consumer, "steps": args.steps, "consumed_now": done}, sys.stderr)
            break
        status, payload = client.request("GET", f"/v1/rollouts/next?{query}", timeout=args.wait_s + 30)
        if status == 204 or payload is None:
            continue
        _in_step = True
        step = payload["step"]
        key = str(step)
        entry = state["steps"].get(key)
        replayed = entry is not None
        if entry is None:
            summary = verify_step(payload, args.root)
            version_now = current_policy_version(client)
            stale = 0
            if args.max_staleness is not None:
                # Contract §10.4: a row is stale when current − policy_version_start exceeds the bound.
                stale = sum(1 for g in payload["groups"] for r in g["samples"] if version_now - r["policy_version_start"] > args.max_staleness)
            entry = {
                "phase": "trained",
                "policy_version": version_now + 1,
                "rows_used": summary["rows"] - stale,
                "rows_dropped": stale,
                "max_abs_advantage_error": summary["max_abs_advantage_error"],
            }
            state["steps"][key] = entry
            save_state(args.state, state)
            emit({"event": "consumed", "consumer": args.consumer, "step": step, "policy_version": entry["policy_version"], **summary, "rows_dropped": stale})
        finish_step(client, args, step, entry)
        entry["phase"] = "acked"
        save_state(args.state, state)
        if replayed:
            emit({"event": "acked", "consumer": args.consumer, "step": step, "replayed": True, "policy_version": entry["policy_version"]})
        _in_step = False
        done += 1
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="exchange server base URL, e.g. http://127.0.0.1:8377")
    p.add_argument("--token", default=os.environ.get("GRPO_EXCHANGE_TOKEN"), help="bearer token (default: env GRPO_EXCHANGE_TOKEN)")
    p.add_argument("--consumer", required=True, help="consumer id, 1-64 of [A-Za-z0-9_-]")
    p.add_argument("--max-steps", type=int, default=None, help="exit after this many steps (default: run until SIGTERM)")
    p.add_argument("--steps", type=int, default=None, help="the run's step count: exit once steps 0..N-1 are all acked by this consumer, as the server reports")
    p.add_argument("--root", default=None, help="run root on disk: also verify each part file's size and sha256")
    p.add_argument("--state", default=None, help="state file recording consumed steps across restarts")
    p.add_argument("--wait-s", type=float, default=30.0, help="long-poll wait per request (server caps it)")
    p.add_argument("--max-staleness", type=int, default=None, help="count rows older than this many policy versions as dropped")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else 0
    if args.steps is not None and args.steps < 0:
        print("--steps must be 0 or more", file=sys.stderr)
        return EXIT_USAGE
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Diagnostics go to stderr so stdout stays one line per consumed step; supervisors can wait for this line.
    emit({"event": "started", "consumer": args.consumer, "url": args.url}, sys.stderr)
    try:
        return run(args)
    except Stop:
        return 0
    except ContractError as e:
        emit({"event": "error", "kind": "contract", "message": str(e)}, sys.stderr)
        return EXIT_INVALID
    except HttpFailure as e:
        emit({"event": "error", "kind": "http", "status": e.status, "body": e.body}, sys.stderr)
        return EXIT_SERVER
    except (KeyError, TypeError, ValueError) as e:
        # A payload missing a field or holding the wrong type is a contract violation too.
        emit({"event": "error", "kind": "contract", "message": f"malformed payload: {type(e).__name__}: {e}"}, sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
