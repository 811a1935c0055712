#!/usr/bin/env python3
"""SFT on a FlowReasoner export with TRL's SFTTrainer (TRL 1.13), training on assistant tokens only.

    python scripts/trainers/trl_sft.py --export RUN/sft --model MODEL_DIR_OR_ID --output OUT \
        [--shape single|multi] [--chat-template FILE.jinja] [--max-steps N] [--epochs 1] [--lr 1e-5] \
        [--batch-size 1] [--grad-accum 8] [--max-length 16384] [--dry-run]

Shapes (trainer-contract.md §3, "SFTTrainer formats"):
- single: train.prompt-completion.jsonl ({id, prompt: [system, user], completion: [assistant]}). TRL tokenizes the
  prompt with the generation prompt and prompt+completion without it; its completion mask (completion_only_loss) keeps
  the labels on the completion only: the assistant text and the template's end-of-turn tokens.
- multi: train.multiturn.messages.jsonl ({id, messages}) with assistant_only_loss=True. TRL renders the conversation
  with return_assistant_tokens_mask, which needs `{% generation %}` / `{% endgeneration %}` around assistant output in
  the chat template. Template resolution, in order: --chat-template FILE (it must have the markers); the model's own
  template if it has them; TRL's patched training template for the model family
  (trl.chat_template_utils.get_training_chat_template: Qwen2.5/3/3.5/3.6, Llama 3, Gemma, Phi-3, DeepSeek, ... —
  trl/chat_templates/*_training.jinja), which SFTTrainer then swaps in for tokenization only. Anything else stops here
  with a message instead of failing inside TRL.
val.<same>.jsonl is used for evaluation when it exists (the export writes no empty split files).

Prints JSON lines on stdout: {"event": "prepared", ...} (rows, template, labelled tokens) and {"event": "trained", ...}.
Exit codes: 0 done, 2 usage, export or chat-template error.
"""

import argparse
import json
import os
import sys

SHAPES = {
    # shape: (file stem, columns TRL reads, SFTConfig loss switches)
    "single": ("prompt-completion", ("prompt", "completion"), {"completion_only_loss": True, "assistant_only_loss": False}),
    "multi": ("multiturn.messages", ("messages",), {"completion_only_loss": None, "assistant_only_loss": True}),
}


class RecipeError(Exception):
    """A problem with the export, the model's chat template or the arguments; reported without a traceback."""


def export_files(export_dir, shape):
    stem = SHAPES[shape][0]
    train = os.path.join(export_dir, f"train.{stem}.jsonl")
    if not os.path.isfile(train):
        raise RecipeError(f"{train} does not exist: --export must be the sft/ folder of a run (flowreasoner sft / demo)")
    val = os.path.join(export_dir, f"val.{stem}.jsonl")
    return train, (val if os.path.isfile(val) else None)


def load_export(export_dir, shape):
    """(train, eval or None) as HF datasets, loaded the way TRL's docs load local JSON Lines."""
    from datasets import load_dataset

    train_file, val_file = export_files(export_dir, shape)
    files = {"train": train_file, **({"validation": val_file} if val_file else {})}
    ds = load_dataset("json", data_files=files)
    missing = [c for c in SHAPES[shape][1] if c not in ds["train"].column_names]
    if missing:
        raise RecipeError(f"{train_file} lacks column(s) {missing}; it has {ds['train'].column_names}")
    return ds["train"], ds.get("validation")


def trl_template_name(text):
    """The trl/chat_templates file a template string came from, if any (for the report)."""
    import trl.chat_template_utils as ctu

    folder = os.path.join(os.path.dirname(ctu.__file__), "chat_templates")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as fh:
            if fh.read() == text:
                return f"trl/chat_templates/{name}"
    return None


def resolve_chat_template(tokenizer, shape, template_file=None):
    """Installs --chat-template on the tokenizer and checks that TRL can mask what the shape needs. Returns a dict
    describing the template used for tokenization; raises RecipeError when assistant-only loss cannot work."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    if template_file is not None:
        with open(template_file, encoding="utf-8") as fh:
            text = fh.read()
        if shape == "multi" and not has_generation_markers(text):
            raise RecipeError(
                f"--chat-template {template_file} has no {{% generation %}} ... {{% endgeneration %}} markers; "
                "assistant_only_loss needs them around each assistant turn's output (the text after the role header, "
                "through the end-of-turn token). See trl/chat_templates/*_training.jinja for examples."
            )
        tokenizer.chat_template = text  # any extension; SFTConfig.chat_template_path only reads *.jinja / *.j2 as files
        return {"source": "file", "path": os.path.abspath(template_file), "generation_markers": has_generation_markers(text)}
    if not tokenizer.chat_template:
        raise RecipeError(
            "the model's tokenizer has no chat template, and both export shapes are conversational: "
            "pass --chat-template FILE.jinja (with {% generation %} markers for --shape multi)"
        )
    own = {"source": "model", "trl_name": trl_template_name(tokenizer.chat_template)}
    if shape == "single" or has_generation_markers(tokenizer.chat_template):
        # completion_only_loss masks by token position, so single needs no markers.
        return {**own, "generation_markers": has_generation_markers(tokenizer.chat_template)}
    try:
        patched = get_training_chat_template(tokenizer)  # what SFTTrainer itself calls for assistant_only_loss
    except ValueError:
        raise RecipeError(
            "the model's chat template has no {% generation %} markers, which assistant_only_loss (--shape multi) "
            "needs, and TRL 1.13 ships no training variant for it (trl.chat_template_utils.get_training_chat_template "
            "knows Qwen2.5/3/3.5/3.6/3.8, Llama 3, Gemma 1-3, Phi-3/3.5, DeepSeek-V3/R1-Distill, GLM-4-MoE, GPT-OSS, "
            "Cohere, LFM2, Nemotron 3, ...). Pass --chat-template FILE.jinja: the model's template with "
            "{% generation %} ... {% endgeneration %} around each assistant turn's output, or use --shape single."
        ) from None
    if patched is None:  # markers present and prefix-preserving: nothing to swap
        return {**own, "generation_markers": True}
    # SFTTrainer swaps this in for tokenization only; the saved tokenizer keeps the model's own template.
    return {**own, "generation_markers": False, "training_template": trl_template_name(patched) or "patched by TRL"}


def make_config(args, has_eval):
    import torch
    from trl import SFTConfig

    bf16 = args.bf16 if args.bf16 is not None else bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    model_init_kwargs = {"dtype": args.dtype}
    if args.attn_implementation:
        model_init_kwargs["attn_implementation"] = args.attn_implementation
    return SFTConfig(
        output_dir=args.output,
        # data
        max_length=args.max_length,
        truncation_mode="keep_start",
        packing=False,  # bfd packing implies padding-free, which needs FlashAttention; kept off for a portable recipe
        dataset_num_proc=args.num_proc,
        # loss: assistant tokens only, per shape
        **SHAPES[args.shape][2],
        # model
        model_init_kwargs=model_init_kwargs,
        # optimisation
        max_steps=args.max_steps,
        num_train_epochs=args.epochs,
        learning_rate=args.lr,
        lr_scheduler_type=args.lr_scheduler,
        warmup_steps=args.warmup,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        gradient_checkpointing=args.gradient_checkpointing,
        bf16=bf16,
        seed=args.seed,
        # bookkeeping
        logging_steps=args.logging_steps,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=args.eval_steps if has_eval else None,
        save_strategy="steps" if args.save_steps > 0 else "no",
        save_steps=args.save_steps if args.save_steps > 0 else 500,
        report_to=args.report_to,
    )


def make_trainer(args):
    """The SFTTrainer for these arguments, with TRL's dataset preparation already run (trainer.train_dataset holds
    input_ids and labels). Returns (trainer, report)."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer
    from trl.chat_template_utils import is_chat_template_stop_token_trained

    train, val = load_export(args.export, args.shape)
    tokenizer = AutoTokenizer.from_pretrained(args.model, trust_remote_code=args.trust_remote_code)
    template = resolve_chat_template(tokenizer, args.shape, args.chat_template)
    config = make_config(args, has_eval=val is not None)
    trainer = SFTTrainer(model=args.model, args=config, train_dataset=train, eval_dataset=val, processing_class=tokenizer)
    if args.shape == "multi":
        # TRL only warns when the template leaves the end-of-turn token out of the mask; record it in the report.
        template["stop_token_trained"] = is_chat_template_stop_token_trained(tokenizer, chat_template=trainer.chat_template)
    tokens = labelled = longest = 0
    for batch in trainer.train_dataset.select_columns(["labels"]).iter(batch_size=256):  # bounded memory on big exports
        for row in batch["labels"]:
            tokens += len(row)
            labelled += sum(1 for t in row if t != -100)
            longest = max(longest, len(row))
    report = {
        "event": "prepared",
        "shape": args.shape,
        "train_file": export_files(args.export, args.shape)[0],
        "train_rows_in": len(train),
        "train_rows": len(trainer.train_dataset),  # TRL drops rows that truncation left with no labelled token
        "eval_rows": len(val) if val is not None else 0,
        "template": template,
        "tokens": tokens,
        "labelled_tokens": labelled,
        "max_length": args.max_length,
        "longest": longest,  # == max_length suggests truncation: raise --max-length
    }
    return trainer, report


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--export", required=True, help="the run's sft/ folder")
    p.add_argument("--model", required=True, help="model folder or hub id (tokenizer and causal LM)")
    p.add_argument("--output", required=True, help="output folder for checkpoints and the final model")
    p.add_argument("--shape", choices=sorted(SHAPES), default="single", help="single: prompt/completion; multi: multi-turn messages")
    p.add_argument("--chat-template", default=None, help="Jinja chat template file replacing the model's (multi: must have {%% generation %%} markers)")
    p.add_argument("--max-steps", type=int, default=-1, help="stop after N optimizer steps (default: --epochs)")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--lr-scheduler", default="cosine")
    p.add_argument("--warmup", type=float, default=0.03, help="warmup steps, or a ratio of all steps when < 1")
    p.add_argument("--batch-size", type=int, default=1, help="per-device batch size")
    p.add_argument("--grad-accum", type=int, default=8)
    p.add_argument("--max-length", type=int, default=16384, help="tokens per example; longer ones are cut at the end (default: the export's maxTokens default)")
    p.add_argument("--num-proc", type=int, default=None, help="processes for TRL's dataset preparation")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16", "auto"], help="weights dtype when loading the model")
    p.add_argument("--attn-implementation", default=None, help="e.g. flash_attention_2, sdpa")
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None, help="bf16 mixed precision (default: when the GPU supports it)")
    p.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--logging-steps", type=float, default=10)
    p.add_argument("--eval-steps", type=float, default=50)
    p.add_argument("--save-steps", type=int, default=0, help="checkpoint every N steps (default 0: only the final model)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--report-to", default="none")
    p.add_argument("--trust-remote-code", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="prepare the data with TRL, print the report, do not train")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        trainer, report = make_trainer(args)
    except RecipeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report), flush=True)
    if args.dry_run:
        return 0
    result = trainer.train()
    trainer.save_model(args.output)  # also saves the tokenizer, with the model's own chat template
    print(json.dumps({"event": "trained", "global_step": result.global_step, "train_loss": result.training_loss, "output": args.output}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
