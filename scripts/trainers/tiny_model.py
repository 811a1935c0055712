#!/usr/bin/env python3
"""A tiny tokenizer and causal LM built locally from an SFT export, so TRL's real data path can run without a hub.

    python scripts/trainers/tiny_model.py --export RUN/sft --out DIR [--vocab-size 2048] [--template qwen2_5]

The tokenizer is a byte-level BPE trained on the export's own text (so every string round-trips exactly through
encode/decode) with ChatML special tokens. Its chat template is TRL's copy of the stock Qwen2.5 template: it has no
`{% generation %}` markers, so `assistant_only_loss` makes TRL swap in its own `qwen2_5_training.jinja`, as it would
for a real Qwen2.5 checkpoint. The model is a randomly initialised 2-layer Qwen2 (hidden size 64). Neither is useful
beyond exercising the pipeline.
"""

import argparse
import json
import os
import sys

IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"


def export_texts(sft_dir):
    """Every string the chat template will render: message contents of the JSON Lines exports, plus the role names."""
    texts = ["system", "user", "assistant", "tool"]
    for name in sorted(os.listdir(sft_dir)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(sft_dir, name), encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                for key in ("prompt", "completion", "messages"):
                    for m in row.get(key) or []:
                        if isinstance(m, dict) and isinstance(m.get("content"), str):
                            texts.append(m["content"])
    return texts


def chat_template(name):
    """Chat templates as TRL 1.13 ships them (trl/chat_templates/), by file stem; 'qwen2_5' is the stock Qwen2.5 one."""
    import trl.chat_template_utils as ctu

    path = os.path.join(os.path.dirname(ctu.__file__), "chat_templates", f"{name}.jinja")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def build_tokenizer(texts, vocab_size=2048, template="qwen2_5"):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # Byte-level pieces: any text encodes, and decode(encode(s)) == s, which the label checks rely on.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    # No post-processor: untrimmed character offsets keep transformers' assistant-mask (char_to_token) exact.
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=IM_END,  # an instruct model stops on the end-of-turn token
        pad_token=PAD,
        extra_special_tokens=[IM_START],
        model_max_length=32768,
    )
    fast.chat_template = chat_template(template) if template else None
    return fast


def build_model(tokenizer, hidden=64, layers=2, seed=0):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def build(sft_dir, out_dir, vocab_size=2048, template="qwen2_5"):
    tokenizer = build_tokenizer(export_texts(sft_dir), vocab_size=vocab_size, template=template)
    model = build_model(tokenizer)
    os.makedirs(out_dir, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    model.save_pretrained(out_dir)
    return tokenizer, model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--export", required=True, help="the SFT export folder (RUN/sft)")
    p.add_argument("--out", required=True, help="folder to save the tokenizer and model into")
    p.add_argument("--vocab-size", type=int, default=2048)
    p.add_argument("--template", default="qwen2_5", help="TRL chat template file stem (trl/chat_templates/NAME.jinja)")
    args = p.parse_args(argv)
    tokenizer, model = build(args.export, args.out, args.vocab_size, args.template)
    print(json.dumps({"out": args.out, "vocab": len(tokenizer), "params": sum(x.numel() for x in model.parameters())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
