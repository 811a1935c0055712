#!/usr/bin/env python3
"""A tiny OpenAI-compatible policy server for the learning test double (stdlib http.server + torch).

  python policy_server.py --port 8410 (--init-seed 0 | --weights FILE) [--watch EXCHANGE_ROOT] [--served-name policy]

Routes
  GET  /v1/models                    the served names (the gateway's preflight asks for it)
  POST /v1/chat/completions          samples a decision sequence; with "return_token_ids": true answers
                                     prompt_token_ids and choices[i].token_ids, with "logprobs": true
                                     choices[i].logprobs.content[k].logprob, as vLLM does
  GET  /v1/policy                    {version, path, fingerprint, loaded_at}
  POST /v1/policy {version, path}    loads weights FILE as the current version; returns once they serve.
                                     Lower version → 409; the same version with the same file → no-op.
  POST /v1/load_lora_adapter {lora_name, lora_path}   vLLM's route: weights served under their own model name
  GET  /health

--watch ROOT polls ROOT/policy/current.json (200 ms) and loads `path` when its version is above the current one:
the files-only way to follow the trainer. Prompts are ignored: the policy conditions on its one prompt token.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decision_policy as dp  # noqa: E402

torch.set_num_threads(1)
# Chat requests here are a few kilobytes; a larger body is refused before it is read.
MAX_BODY_BYTES = 1 << 20


class PolicyState:
    def __init__(self, model, version, path, served_name):
        self.lock = threading.Lock()
        self.model = model
        self.version = version
        self.path = path
        self.served_name = served_name
        self.fingerprint = dp.fingerprint(model)
        self.loaded_at = now_iso()
        self.named = {}  # lora_name → (model, version, path)

    def load(self, version: int, path: str) -> tuple[int, dict]:
        with self.lock:
            if version < self.version:
                return 409, {"error": "version-conflict", "message": f"version {version} is below the served version {self.version}"}
            if version == self.version:
                if path == self.path:
                    return 200, {"ok": True, "changed": False, **self.info_locked()}
                return 409, {"error": "version-conflict", "message": f"version {version} is already served from {self.path}"}
        model, file_version = dp.load_weights(path)  # outside the lock: sampling goes on with the old weights meanwhile
        if file_version != version:
            return 400, {"error": "version-mismatch", "message": f"{path} holds version {file_version}, not {version}"}
        with self.lock:
            if version <= self.version:  # a concurrent load won
                return 409, {"error": "version-conflict", "message": f"version {self.version} is already served"}
            self.model, self.version, self.path = model, version, path
            self.fingerprint = dp.fingerprint(model)
            self.loaded_at = now_iso()
            return 200, {"ok": True, "changed": True, **self.info_locked()}

    def info_locked(self) -> dict:
        return {"version": self.version, "path": self.path, "fingerprint": self.fingerprint, "loaded_at": self.loaded_at, "served_model": self.served_name}

    def info(self) -> dict:
        with self.lock:
            return self.info_locked()

    def pick(self, model_name: str | None):
        """(model, version, name) for a request: a named adapter slot when the name matches one, else the current weights."""
        with self.lock:
            if model_name is not None and model_name in self.named:
                m, v, _ = self.named[model_name]
                return m, v, model_name
            return self.model, self.version, self.served_name


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def chat_completion(state: PolicyState, body: dict) -> tuple[int, dict]:
    if body.get("stream"):
        return 400, {"error": {"message": "stream is not supported by the decision-policy server; set models.policy.stream: false", "type": "invalid_request_error"}}
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return 400, {"error": {"message": "messages: a non-empty list is required", "type": "invalid_request_error"}}
    n = int(body.get("n") or 1)
    temperature = float(body.get("temperature", 1.0) if body.get("temperature") is not None else 1.0)
    if temperature <= 0:
        return 400, {"error": {"message": "temperature must be > 0 (the sampler's logprobs are of the temperature-scaled distribution)", "type": "invalid_request_error"}}
    top_p = body.get("top_p")
    if top_p is not None and float(top_p) < 1.0:
        return 400, {"error": {"message": "top_p < 1 is not supported: the reported logprobs are of the full temperature-scaled distribution", "type": "invalid_request_error"}}
    max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or dp.COMPLETION_LEN)
    seed = body.get("seed")
    want_lp = bool(body.get("logprobs"))
    want_ids = bool(body.get("return_token_ids"))
    model, version, name = state.pick(body.get("model"))
    choices = []
    completion_tokens = 0
    for i in range(n):
        g = torch.Generator()
        g.manual_seed(int(seed) + i if seed is not None else int.from_bytes(os.urandom(7), "little"))
        ids, lps, finish = dp.sample(model, g, temperature, max_new=max_tokens)
        completion_tokens += len(ids)
        choice = {
            "index": i,
            "message": {"role": "assistant", "content": dp.render_reply(ids), "refusal": None},
            "logprobs": {"content": [{"token": dp.token_text(t), "logprob": lp, "bytes": list(dp.token_text(t).encode()), "top_logprobs": []} for t, lp in zip(ids, lps)], "refusal": None} if want_lp else None,
            "finish_reason": finish,
        }
        if want_ids:
            choice["token_ids"] = ids
        choices.append(choice)
    reply = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or name,
        "system_fingerprint": f"decision-policy-v{version}-{dp.fingerprint(model)}",
        "policy_version": version,
        "choices": choices,
        "usage": {"prompt_tokens": len(dp.PROMPT_IDS), "completion_tokens": completion_tokens, "total_tokens": len(dp.PROMPT_IDS) + completion_tokens},
    }
    if want_ids:
        reply["prompt_token_ids"] = list(dp.PROMPT_IDS)
    return 200, reply


def make_handler(state: PolicyState, log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet by default
            if log:
                sys.stderr.write("policy_server: " + (fmt % args) + "\n")

        def send(self, status: int, obj: dict) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> dict:
            n = int(self.headers.get("content-length") or 0)
            if n > MAX_BODY_BYTES:
                # Read and drop a moderately large body so the client gets the 400 instead of a reset connection.
                left = n if n <= 16 * MAX_BODY_BYTES else 0
                while left > 0:
                    left -= len(self.rfile.read(min(left, 65536)) or b"x" * left)
                raise ValueError(f"body of {n} bytes is over the limit of {MAX_BODY_BYTES}")
            raw = self.rfile.read(n) if n > 0 else b"{}"
            return json.loads(raw or b"{}")

        def do_GET(self):
            path = self.path.split("?")[0].rstrip("/")
            if path in ("/v1/models", "/models"):
                info = state.info()
                names = [info["served_model"], *state.named.keys()]
                return self.send(200, {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "decision-policy"} for n in names]})
            if path == "/v1/policy":
                return self.send(200, state.info())
            if path in ("/health", "/v1/health"):
                return self.send(200, {"ok": True})
            return self.send(404, {"error": "not-found", "message": path})

        def do_POST(self):
            path = self.path.split("?")[0].rstrip("/")
            try:
                body = self.body()
            except (ValueError, json.JSONDecodeError) as e:
                self.close_connection = True  # an unread or half-read body would be taken for the next request
                return self.send(400, {"error": {"message": f"unusable body: {e}", "type": "invalid_request_error"}})
            try:
                if path in ("/v1/chat/completions", "/chat/completions"):
                    return self.send(*chat_completion(state, body))
                if path == "/v1/policy":
                    if not isinstance(body.get("version"), int) or not isinstance(body.get("path"), str):
                        return self.send(400, {"error": "invalid-body", "message": "version (int) and path (str) are required"})
                    return self.send(*state.load(body["version"], body["path"]))
                if path == "/v1/load_lora_adapter":
                    name, p = body.get("lora_name"), body.get("lora_path")
                    if not isinstance(name, str) or not isinstance(p, str):
                        return self.send(400, {"error": "invalid-body", "message": "lora_name and lora_path are required"})
                    weights = p if os.path.isfile(p) else os.path.join(p, "policy.pt")
                    model, version = dp.load_weights(weights)
                    with state.lock:
                        state.named[name] = (model, version, weights)
                    return self.send(200, {"ok": True, "lora_name": name, "version": version})
                return self.send(404, {"error": "not-found", "message": path})
            except Exception as e:  # a bad weights file is the client's problem, reported, never a dead server
                return self.send(500, {"error": "server-error", "message": f"{type(e).__name__}: {e}"})

    return Handler


def watch(state: PolicyState, root: str, stop: threading.Event) -> None:
    current = os.path.join(root, "policy", "current.json")
    while not stop.wait(0.2):
        try:
            with open(current) as fh:
                p = json.load(fh)
        except (FileNotFoundError, json.JSONDecodeError):
            continue
        if isinstance(p.get("version"), int) and p["version"] > state.version and isinstance(p.get("path"), str) and os.path.exists(p["path"]):
            status, info = state.load(p["version"], p["path"])
            sys.stderr.write(json.dumps({"event": "watch-load", "status": status, **info}) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = a free port, printed on stdout as JSON")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--init-seed", type=int, default=0, help="version 0 = make_policy(seed), the trainer's own start")
    src.add_argument("--weights", help="start from a weights file (its version is served)")
    ap.add_argument("--served-name", default="policy")
    ap.add_argument("--watch", help="exchange root whose policy/current.json to follow")
    ap.add_argument("--log", action="store_true")
    args = ap.parse_args(argv)
    if args.weights:
        model, version = dp.load_weights(args.weights)
        path = os.path.abspath(args.weights)
    else:
        model, version, path = dp.make_policy(args.init_seed).eval(), 0, f"init-seed:{args.init_seed}"
    state = PolicyState(model, version, path, args.served_name)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(state, args.log))
    stop = threading.Event()
    if args.watch:
        threading.Thread(target=watch, args=(state, args.watch, stop), daemon=True).start()
    host, port = server.server_address[:2]
    print(json.dumps({"event": "listening", "url": f"http://{host}:{port}/v1", "version": version, "fingerprint": state.fingerprint}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
