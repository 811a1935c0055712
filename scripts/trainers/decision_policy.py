"""The learning test double's policy: a tiny autoregressive torch model over a structured vocabulary of workflow
decisions, the grammar that keeps every sample a complete decision sequence, and the renderer that turns a decision
sequence into a meta-agent reply (<modification>, <graph>, <prompt>) that passes the repo's workflow checker.

Shared by policy_server.py (sampling) and torch_grpo.py (training): both compute token logprobs with
`token_logprobs`, the one function that defines the policy's distribution, so a trainer holding the server's weights
recomputes the server's logprobs exactly (ratio 1) from the token ids alone. Nothing here tokenises text.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile

import torch
from torch import nn

DTYPE = torch.float64  # tiny model: float64 makes server (one sequence) and trainer (a batch) agree to ~1e-15

# ---------------------------------------------------------------- vocabulary and grammar

# id 0 pads batches (never sampled), 1 is the fixed prompt token, 2 ends a reply.
PAD, BOS, EOS = 0, 1, 2
SPECIAL = ["<|pad|>", "<|policy|>", "<|end|>"]

# Prompt library for CustomCodeGenerate instructions (our own texts). Draft i of a sample uses entry (p + i) mod 4.
PROMPT_LIBRARY = [
    ("PLAIN", "Implement the requested Python function in the most direct way that satisfies the description and every example in it."),
    ("BOUNDARIES", "List the boundary inputs the task allows (empty, zero, negative, duplicates, very large), then write a Python function that handles each of them."),
    ("DECOMPOSE", "Break the task into small sub-steps, solve them in order, and combine them into one Python function with exactly the requested name and parameters."),
    ("TRACE", "Trace each example of the description by hand first, note what the function must return for it, then write the Python function that reproduces those results."),
]

# Slots in sampling order: (slot name, [(token text, value)]).
SLOTS = [
    ("drafts", [("<drafts=1>", 1), ("<drafts=2>", 2), ("<drafts=3>", 3), ("<drafts=5>", 5)]),
    ("prompt", [(f"<prompt={name}>", i) for i, (name, _) in enumerate(PROMPT_LIBRARY)]),
    ("review", [("<review=no>", 0), ("<review=yes>", 1)]),
    ("tests", [("<tests=0>", 0), ("<tests=1>", 1), ("<tests=2>", 2)]),
]

VOCAB: list[str] = list(SPECIAL)
SLOT_TOKEN_IDS: list[list[int]] = []
TOKEN_VALUE: dict[int, tuple[str, int]] = {}
for _slot, _choices in SLOTS:
    ids = []
    for _text, _value in _choices:
        TOKEN_VALUE[len(VOCAB)] = (_slot, _value)
        ids.append(len(VOCAB))
        VOCAB.append(_text)
    SLOT_TOKEN_IDS.append(ids)
V = len(VOCAB)
PROMPT_IDS = [BOS]
# A complete sequence: BOS, one token per slot, EOS.
SEQ_LEN = 1 + len(SLOTS) + 1
COMPLETION_LEN = SEQ_LEN - 1


def _grammar_mask() -> torch.Tensor:
    """mask[j, v] = 0 when token v may stand at position j, -inf otherwise (row 0 is the prompt position)."""
    m = torch.full((SEQ_LEN, V), float("-inf"), dtype=DTYPE)
    m[0, BOS] = 0.0
    for j, ids in enumerate(SLOT_TOKEN_IDS, start=1):
        m[j, ids] = 0.0
    m[SEQ_LEN - 1, EOS] = 0.0
    return m


GRAMMAR = _grammar_mask()


def check_sequence(ids: list[int]) -> None:
    """Raises ValueError unless `ids` is a prefix-complete sequence this policy could have produced."""
    if len(ids) > SEQ_LEN:
        raise ValueError(f"sequence of {len(ids)} tokens is longer than {SEQ_LEN}")
    for j, t in enumerate(ids):
        if not (0 <= t < V) or GRAMMAR[j, t].item() != 0.0:
            raise ValueError(f"token id {t} is not allowed at position {j} (vocabulary of {V}); not this policy's tokens")


# ---------------------------------------------------------------- model


class DecisionPolicy(nn.Module):
    """Embedding + position → 1-layer GRU → logits over the vocabulary, restricted by the grammar."""

    def __init__(self, dim: int = 32):
        super().__init__()
        self.tok = nn.Embedding(V, dim)
        self.pos = nn.Embedding(SEQ_LEN, dim)
        self.rnn = nn.GRU(dim, dim, batch_first=True)
        self.head = nn.Linear(dim, V)
        with torch.no_grad():
            # Zero head: version 0 is uniform over the allowed tokens of each slot.
            self.head.weight.zero_()
            self.head.bias.zero_()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, L] → logits [B, L, V]: position i holds the distribution of token i+1 (grammar applied)."""
        L = ids.shape[1]
        x = self.tok(ids) + self.pos(torch.arange(L))
        h, _ = self.rnn(x)
        logits = self.head(h)
        nxt = torch.full((L, V), float("-inf"), dtype=DTYPE)
        nxt[: min(L, SEQ_LEN - 1)] = GRAMMAR[1 : min(L, SEQ_LEN - 1) + 1]
        return logits + nxt.unsqueeze(0)


def make_policy(init_seed: int) -> DecisionPolicy:
    g_state = torch.random.get_rng_state()
    torch.manual_seed(init_seed)
    try:
        model = DecisionPolicy().to(DTYPE)
    finally:
        torch.random.set_rng_state(g_state)
    return model


def token_logprobs(model: DecisionPolicy, ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """ids [B, L] (PAD after a sequence's end) → [B, L]: out[:, j] = log p(ids[:, j] | ids[:, :j]) for j ≥ 1; out[:, 0] = 0.
    Padded positions get 0 (their grammar entry may be -inf; the caller masks them out)."""
    logits = model(ids)[:, :-1, :] / temperature
    lp = torch.log_softmax(logits, dim=-1)
    tgt = ids[:, 1:]
    picked = lp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
    picked = torch.where(tgt == PAD, torch.zeros_like(picked), picked)
    return torch.cat([torch.zeros_like(picked[:, :1]), picked], dim=1)


@torch.no_grad()
def sample(model: DecisionPolicy, generator: torch.Generator, temperature: float = 1.0, max_new: int = COMPLETION_LEN) -> tuple[list[int], list[float], str]:
    """Samples one completion after the prompt. Returns (completion ids, their logprobs, finish_reason).
    Logprobs are recomputed over the finished sequence by `token_logprobs`, the trainer's own function."""
    ids = list(PROMPT_IDS)
    for _ in range(min(max_new, COMPLETION_LEN)):
        logits = model(torch.tensor([ids]))[0, -1] / temperature
        probs = torch.softmax(logits, dim=-1)
        ids.append(int(torch.multinomial(probs, 1, generator=generator).item()))
    lps = token_logprobs(model, torch.tensor([ids]), temperature)[0, len(PROMPT_IDS):].tolist()
    finish = "stop" if ids[-1] == EOS else "length"
    return ids[len(PROMPT_IDS):], lps, finish


# ---------------------------------------------------------------- weights on disk


def fingerprint(model: nn.Module) -> str:
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def atomic_write_bytes(path: str, data: bytes) -> None:
    """tmp file in the same directory, fsync, rename, fsync the directory: a kill leaves the old file or the new one."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def save_weights(model: DecisionPolicy, path: str, version: int) -> None:
    atomic_write_bytes(path, torch_bytes({"format": "decision-policy/v1", "version": version, "vocab": VOCAB, "state_dict": model.state_dict()}))


def load_weights(path: str) -> tuple[DecisionPolicy, int]:
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if blob.get("format") != "decision-policy/v1" or blob.get("vocab") != VOCAB:
        raise ValueError(f"{path}: not decision-policy/v1 weights for this vocabulary")
    model = DecisionPolicy().to(DTYPE)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, int(blob["version"])


# ---------------------------------------------------------------- decisions → reply


def decisions_of(completion_ids: list[int]) -> dict[str, int]:
    d = {}
    for t in completion_ids:
        if t in TOKEN_VALUE:
            slot, value = TOKEN_VALUE[t]
            d[slot] = value
    return d


def _init_lines(ops: list[tuple[str, str]]) -> list[str]:
    return [
        "    def __init__(self, name: str, llm_config, dataset) -> None:",
        "        self.name = name",
        "        self.dataset = dataset",
        "        self.llm = create_llm_instance(llm_config)",
        *[f"        self.{attr} = operator.{cls}(self.llm)" for attr, cls in ops],
    ]


def render_reply(completion_ids: list[int]) -> str:
    """The complete tagged reply for a decision sequence. A sequence cut short (finish_reason length) renders whatever
    it has: missing slots fall back to no review, no test, one draft, so a truncated sample is still a reply."""
    d = decisions_of(completion_ids)
    drafts, p, review, tests = d.get("drafts", 1), d.get("prompt", 0), d.get("review", 0), d.get("tests", 0)
    angles = [PROMPT_LIBRARY[(p + i) % len(PROMPT_LIBRARY)][0] for i in range(drafts)]
    ops = [("custom_code_generate", "CustomCodeGenerate")]
    if drafts > 1:
        ops.append(("sc_ensemble", "ScEnsemble"))
    if review:
        ops += [("review", "Review"), ("revise", "Revise")]
    if tests:
        ops.append(("test", "Test"))
    body: list[str] = []
    if drafts == 1:
        body.append(f"        draft = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=prompt_custom.{angles[0]})")
        body.append("        solution = draft['response']")
    else:
        body.append(f"        angles = [{', '.join('prompt_custom.' + a for a in angles)}]")
        body.append("        drafts = await asyncio.gather(")
        body.append("            *[self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=a) for a in angles]")
        body.append("        )")
        body.append("        chosen = await self.sc_ensemble(solutions=[d['response'] for d in drafts], problem=problem)")
        body.append("        solution = chosen['response']")
    if review:
        body.append("        verdict = await self.review(problem=problem, solution=solution)")
        body.append("        if not verdict['review_result']:")
        body.append("            revised = await self.revise(problem=problem, solution=solution, feedback=verdict['feedback'])")
        body.append("            solution = revised['solution']")
    for _ in range(tests):
        body.append("        checked = await self.test(problem=problem, solution=solution, entry_point=entry_point)")
        body.append("        solution = checked['solution']")
    body.append("        return solution, self.llm.cost_manager.total_cost")
    head = ["import asyncio", "", ""] if drafts > 1 else []
    graph = "\n".join([*head, "class Workflow:", *_init_lines(ops), "", "    async def __call__(self, problem: str, entry_point: str):", *body])
    used = []
    for a in angles:
        if a not in used:
            used.append(a)
    prompt = "\n".join(f'{name} = """{text}"""' for name, text in PROMPT_LIBRARY if name in used)
    parts = [f"{drafts} draft{'s' if drafts > 1 else ''} ({', '.join(angles)})"]
    if drafts > 1:
        parts.append("ScEnsemble picks one")
    if review:
        parts.append("Review, and Revise when not approved")
    if tests:
        parts.append(f"{tests} Test call{'s' if tests > 1 else ''} (run the public tests, fix what fails)")
    modification = "Decision policy: " + "; ".join(parts) + "."
    return f"<modification>{modification}</modification>\n<graph>\n{graph}\n</graph>\n<prompt>\n{prompt}\n</prompt>\n"


def token_text(t: int) -> str:
    return VOCAB[t] if 0 <= t < V else f"<unk:{t}>"


def describe() -> str:
    return json.dumps({"vocab": VOCAB, "slots": [s for s, _ in SLOTS], "seq_len": SEQ_LEN})


def all_replies() -> list[dict]:
    """Every complete decision sequence and every proper prefix of one (what max_tokens would cut), rendered."""
    import itertools

    out = []
    seen = set()
    for combo in itertools.product(*SLOT_TOKEN_IDS):
        full = [*combo, EOS]
        for n in range(len(full) + 1):
            ids = tuple(full[:n])
            if ids in seen:
                continue
            seen.add(ids)
            out.append({"ids": list(ids), "finish_reason": "stop" if n == len(full) else "length", "reply": render_reply(list(ids))})
    return out


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="The decision policy's vocabulary and replies, for checks outside Python.")
    ap.add_argument("--describe", action="store_true", help="print the vocabulary and slots as JSON")
    ap.add_argument("--render-all", action="store_true", help="print every decision sequence and every prefix with its rendered reply, as JSON")
    a = ap.parse_args()
    if a.render_all:
        print(json.dumps(all_replies()))
    else:
        print(describe())
