#!/usr/bin/env python3
"""Token lengths of exported RL prompts, measured as verl measures them, to size verl's data.max_prompt_length.

verl (b178a3c) tokenises each row's `prompt` messages with the policy's tokenizer and chat template,
`apply_chat_template(messages, add_generation_prompt=True, tokenize=True)`, both in RLHFDataset's overlong filter and
in its agent loop. A prompt longer than data.max_prompt_length is dropped by that filter (when on) or breaks the batch,
and verl's default is 512 while our meta-agent prompts are ~1,000 tokens, so the launcher sets the limit from here.

Usage: prompt_lengths.py --tokenizer DIR_OR_NAME [--round 64] [--chat-template-kwargs JSON] [--trust-remote-code] FILE.parquet...
stdout: the rounded-up maximum (one integer); stderr: a JSON summary.
Needs pyarrow and transformers (the trainer venv, or verl's own environment).
"""

import argparse
import json
import sys


def prompt_token_lengths(tokenizer, files, template_kwargs=None):
    """[(file, row, length)] for every row of every file; `prompt` must be a list of {role, content} messages."""
    import pyarrow.parquet as pq

    out = []
    for f in files:
        prompts = pq.read_table(f, columns=["prompt"]).column("prompt").to_pylist()
        for i, messages in enumerate(prompts):
            if not isinstance(messages, list) or not messages:
                raise ValueError(f"{f} row {i}: `prompt` is not a non-empty list of messages")
            ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, **(template_kwargs or {}))
            # transformers 5 returns a BatchEncoding here by default, 4.x a plain list: count tokens, not keys.
            if hasattr(ids, "keys"):
                ids = ids["input_ids"]
            out.append((f, i, len(ids)))
    return out


def round_up(n, multiple):
    return -(-n // multiple) * multiple


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokenizer", required=True, help="the policy model's directory or hub name (its tokenizer and chat template)")
    ap.add_argument("--round", type=int, default=64, help="round the maximum up to a multiple of this (default 64)")
    ap.add_argument("--chat-template-kwargs", default="{}", help="JSON object, as verl's data.apply_chat_template_kwargs")
    ap.add_argument("--trust-remote-code", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    if a.round < 1:
        ap.error("--round must be >= 1")
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(a.tokenizer, trust_remote_code=a.trust_remote_code)
    if not getattr(tok, "chat_template", None):
        # verl would fail (or fall back differently) on such a model; a length from no template would be wrong.
        print(f"error: tokenizer {a.tokenizer} has no chat template", file=sys.stderr)
        return 2
    lengths = prompt_token_lengths(tok, a.files, json.loads(a.chat_template_kwargs))
    if not lengths:
        print("error: no prompt rows in " + ", ".join(a.files), file=sys.stderr)
        return 2
    f, i, longest = max(lengths, key=lambda x: x[2])
    rounded = round_up(longest, a.round)
    summary = {"files": a.files, "rows": len(lengths), "max_tokens": longest, "longest": {"file": f, "row": i}, "round": a.round, "max_prompt_length": rounded}
    print(json.dumps(summary), file=sys.stderr)
    print(rounded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
