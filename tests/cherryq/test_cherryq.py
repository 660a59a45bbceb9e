"""cherryq: the quantizer by hand, cherry selection on planted matrices, GPTQ, the STE."""

from __future__ import annotations

import pytest
import torch

from llmrepro.cherryq import gptq as G
from llmrepro.cherryq import impact as I
from llmrepro.cherryq import quant as Q
from llmrepro.cherryq import qat as QAT
from llmrepro.cherryq.qat import QuantLinear


def test_fullsym_by_hand():
    # 2 bits: s = (1 + 1e-6) / 2, so w/s = [1.999998, -0.999999, 0.4, 0]; clamp to 1.99,
    # subtract 0.5 -> [1.49, -1.499999, -0.1, -0.5]; round -> [1, -1, 0, 0]; add 0.5
    q = Q.fullsym(torch.tensor([[1.0, -0.5, 0.2, 0.0]]), bits=2, group=4)
    s = (1 + 1e-6) / 2
    assert torch.allclose(q, torch.tensor([[1.5, -0.5, 0.5, 0.5]]) * s)
    # half-integer levels: 2^b of them, symmetric, never zero
    w = torch.linspace(-1, 1, 1000).reshape(1, -1)
    levels = torch.unique(Q.fullsym(w, 3, 1000) / ((1 + 1e-6) / 4))
    assert torch.allclose(levels, torch.arange(-3.5, 4.0, 1.0))


def test_groups_are_formed_after_removing_cherries():
    w = torch.tensor([[100.0, 0.9, -0.8, 0.7, 0.1, 0.2, -0.3, 0.4]])
    mask = Q.select(w.abs(), 1)  # the outlier is the cherry
    q = Q.quantize_matrix(w, bits=2, group=4, mask=mask)
    assert q[0, 0] == 100.0  # kept at full precision
    # the remaining 7 values form groups [0.9, -0.8, 0.7, 0.1] and [0.2, -0.3, 0.4]
    assert torch.allclose(q[0, 1:5], Q.fullsym(w[:, 1:5], 2, 4)[0])
    assert torch.allclose(q[0, 5:], Q.fullsym(w[:, 5:], 2, 4)[0])
    # without the cherry, the outlier's scale would flatten every other weight to one level
    plain = Q.quantize_matrix(w, 2, 4)
    assert (plain[0, 1:4].abs() == plain[0, 1].abs()).all()  # all at the smallest level, +-s/2


def test_selection_recovers_planted_cherries():
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(16, 64, generator=g)
    planted = torch.stack([torch.randperm(64, generator=g)[:3] for _ in range(16)])
    scores.scatter_(1, planted, 10.0)
    mask = Q.select(Q.scores_for("impact", torch.zeros(16, 64), scores, 0), 3)
    assert torch.equal(mask, torch.zeros_like(mask).scatter(1, planted, True))
    assert Q.select(scores, 0).sum() == 0
    with pytest.raises(ValueError, match="criterion 'size'"):
        Q.scores_for("size", scores, scores, 0)


def test_cherry_count_and_bits_per_weight():
    assert Q.cherry_count(128, 1 / 32) == 4
    assert Q.cherry_count(576, 1 / 256) == 2  # the official //8*8 rule would give 0
    assert Q.cherry_count(128, 0.0) == 0
    # 124 quantized at 3 bits, 4 fp16 scales, 4 cherries at 32 bits, over 128 weights
    assert Q.bits_per_weight(128, 3, 32, 4) == pytest.approx((3 * 124 + 16 * 4 + 32 * 4) / 128)


def test_heterogeneity_score_by_hand():
    scores = torch.ones(100)
    scores[7] = 100.0
    assert I.heterogeneity(scores) == pytest.approx(100.0)  # top 1 % = one value, over max of the rest
    assert I.heterogeneity(torch.ones(200)) == pytest.approx(1.0)


def test_gptq_with_identity_hessian_is_rtn_and_beats_rtn_on_correlated_inputs():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(8, 32, generator=g)
    assert torch.allclose(G.gptq(W, torch.eye(32, dtype=torch.float64), 3, 8), Q.fullsym(W, 3, 8), atol=1e-6)
    X = torch.randn(512, 4, generator=g) @ torch.randn(4, 32, generator=g) + 0.05 * torch.randn(512, 32, generator=g)
    H = (2 * X.T @ X / len(X)).double()
    err = lambda Wq: float(((W - Wq) @ X.T).pow(2).sum())
    assert err(G.gptq(W, H, 3, 8)) < 0.5 * err(Q.fullsym(W, 3, 8))


def test_ste_forward_is_quantized_and_gradient_passes_straight_through():
    torch.manual_seed(0)
    lin = torch.nn.Linear(16, 4, bias=False)
    mask = Q.select(lin.weight.detach().abs(), 2)
    ql = QuantLinear(lin, bits=2, group=8, mask=mask)
    x = torch.randn(5, 16)
    y = ql(x)
    wq = Q.quantize_matrix(lin.weight.detach(), 2, 8, mask)
    assert torch.allclose(y, x @ wq.T)
    y.sum().backward()
    # d/dW of sum(x W_q^T) with W_q = W + sg(q(W) - W) is x summed: the identity through q
    assert torch.allclose(lin.weight.grad, x.sum(0).expand(4, 16))


# ---------------------------------------------------------------- impact, Hessians, GPTQ against references

def _tiny_llama(seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=4,
                                        max_position_embeddings=32)).eval()


def _fisher_reference(model, sequences):
    """Batch 1, autograd, the token-summed loss: the official estimate_impact.py loop."""
    lins = Q.target_linears(model)
    acc = {n: torch.zeros_like(m.weight) for n, m in lins.items()}
    for i in range(len(sequences)):
        ids = sequences[i: i + 1]
        model.zero_grad(set_to_none=True)
        (model(input_ids=ids, labels=ids).loss * (ids.shape[1] - 1)).backward()
        for n, m in lins.items():
            acc[n] += m.weight.grad ** 2
    model.zero_grad(set_to_none=True)
    return {n: a / len(sequences) for n, a in acc.items()}


@pytest.mark.parametrize("batch", [1, 2, 5])
def test_fisher_equals_per_sequence_autograd(batch):
    model = _tiny_llama()
    seqs = torch.randint(0, 64, (5, 12), generator=torch.Generator().manual_seed(1))
    ref = _fisher_reference(model, seqs)
    got = I.fisher(model, seqs, batch=batch)
    assert set(got) == set(ref) and len(ref) == 14
    for n in ref:  # |grad| or a mean-loss gradient would be off by orders of magnitude here
        assert torch.allclose(got[n], ref[n], rtol=1e-4, atol=1e-9 * float(ref[n].max())), n
    assert all(p.requires_grad and p.grad is None for p in model.parameters())  # left as found


def test_hessians_equal_explicit_2xtx_over_tokens():
    model = _tiny_llama()
    seqs = torch.randint(0, 64, (3, 10), generator=torch.Generator().manual_seed(2))
    inputs: dict[str, list] = {}
    lins = Q.target_linears(model)
    hooks = [m.register_forward_hook(lambda _m, inp, _o, n=n: inputs.setdefault(n, []).append(inp[0].detach()))
             for n, m in lins.items()]
    with torch.no_grad():
        model(input_ids=seqs)
    for h in hooks:
        h.remove()
    acc = G.HessianSum()
    I.fisher(model, seqs, batch=2, hessians=acc)  # the Hessians the pretrained stage takes from the Fisher pass
    for H in (G.hessians(model, seqs, batch=2), acc.result(lins)):
        for n, xs in inputs.items():
            X = torch.cat(xs).reshape(-1, xs[0].shape[-1]).double()
            ref = 2 * X.T @ X / seqs.numel()
            # the float32 activations of two passes with other batch shapes differ in the last bit on some
            # CPUs (AVX2: 2e-7 on entries up to 3.5), which entries near zero cannot meet relatively
            assert torch.allclose(H[n], ref, rtol=1e-5, atol=1e-6 * float(ref.abs().max())), n
    assert H["model.layers.0.self_attn.q_proj"] is H["model.layers.0.self_attn.k_proj"]  # one input, one Hessian


def _gptq_unblocked(W, H, bits, group, damp=0.01):
    """GPTQ without blocks (the OBQ column loop): after each column, its error goes to every later column."""
    W, H = W.double().clone(), H.double().clone()
    n = W.shape[1]
    H += damp * torch.diag(H).mean() * torch.eye(n, dtype=H.dtype)
    U = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)
    half = 2 ** (bits - 1)
    Qm = torch.zeros_like(W)
    for i in range(n):
        if i % group == 0:
            s = (W[:, i: i + group].abs().amax(dim=1, keepdim=True) + 1e-6) / half
        Qm[:, i] = Q.fullsym_levels(W[:, i: i + 1], s, half)[:, 0]
        W[:, i:] -= ((W[:, i] - Qm[:, i]) / U[i, i])[:, None] * U[i: i + 1, i:]
    return Qm


def test_gptq_over_several_blocks_is_independent_of_block_size_and_equals_unblocked():
    g = torch.Generator().manual_seed(3)
    n = 320  # two and a half 128-column blocks
    W = torch.randn(6, n, generator=g)
    X = torch.randn(2048, 16, generator=g) @ torch.randn(16, n, generator=g) + 0.3 * torch.randn(2048, n, generator=g)
    H = (2 * X.T @ X / len(X)).double()
    ref = _gptq_unblocked(W, H, 3, 32).float()
    scale = float(ref.abs().max())
    for block in (32, 128, 256, 512):
        got = G.gptq(W, H, 3, 32, block=block)
        # equal codes but for a rare tie broken by float32 rounding
        assert float((got - ref).abs().gt(1e-3 * scale).float().mean()) < 0.01, block
    assert not torch.allclose(ref, G.gptq(W, torch.eye(n, dtype=torch.float64), 3, 32))  # H matters


# ---------------------------------------------------------------- codes, the prescale control, equal bits

def test_codes_match_levels_and_code_change_counts_flips():
    w = torch.tensor([[0.9, -0.8, 0.1, 0.0, 100.0, 0.3, -0.3, 0.2]])
    mask = Q.select(w.abs(), 1)
    for m in (None, mask):
        for prescale in (False, True):
            k = Q.codes(w, 2, 4, m, prescale)
            assert k.min() >= -2 and k.max() <= 1  # 2 bits: codes -2..1
    # compacted groups [0.9, -0.8, 0.1, 0.0] and [0.3, -0.3, 0.2], s = max/2: w/s - 1/2 clamped is
    # [1.49, -2.28, -0.28, -0.5] and [1.49, -2.49, 0.83], rounded half to even
    assert Q.codes(w, 2, 4, mask).tolist() == [[1, -2, 0, 0, 1, -2, 1]]
    before = {"a": torch.tensor([[0, 1, -1, 2]]), "b": torch.tensor([[1, 1]])}
    after = {"a": torch.tensor([[0, 0, -1, 2]]), "b": torch.tensor([[0, 1]])}
    assert QAT.code_change(before, after) == pytest.approx(2 / 6)
    assert QAT.code_change(before, before) == 0.0


def test_prescale_control_keeps_the_full_groups_scale():
    w = torch.tensor([[8.0, 0.9, -0.8, 0.7, 0.1, 0.2, -0.3, 0.4]])
    mask = Q.select(w.abs(), 1)
    plain, pre = Q.fullsym(w, 2, 4), Q.quantize_matrix(w, 2, 4, mask, prescale=True)
    assert pre[0, 0] == 8.0  # the cherry is kept
    assert torch.equal(pre[0, 1:], plain[0, 1:])  # every other weight as plain RTN: no finer scale
    post = Q.quantize_matrix(w, 2, 4, mask)  # groups after removal: [0.9 -0.8 0.7 0.1] [0.2 -0.3 0.4]
    assert float((post - w)[0, 1:].abs().sum()) < float((pre - w)[0, 1:].abs().sum())  # the scale effect
    # storage: the prescale control keeps the whole row's groups
    assert Q.bits_per_weight(128, 3, 64, 1, prescale=True) == pytest.approx((3 * 127 + 16 * 2 + 32) / 128)
    assert QuantLinear(torch.nn.Linear(8, 1, bias=False), 2, 4, mask, prescale=True).compactor.prescale


def test_equal_bits_group_by_hand():
    # CherryQ at 3 bits, g128, 1/128: (3*127 + 16 + 32) / 128 = 3.3516 b/w for 128 inputs, and
    # (3*381 + 16*3 + 32*3) / 384 = 3.3516 for 384. Plain 3-bit groups need ceil(128/g) >= 3 (g <= 63)
    # and ceil(384/g) >= 9 (g <= 47).
    assert Q.equal_bits_group([128, 384], 3, 128, 1 / 128) == 47
    assert Q.equal_bits_group([128], 3, 128, 1 / 128) == 63
    g = Q.equal_bits_group([576, 1536], 3, 64, 1 / 256)  # SmolLM2's widths
    need = {n: Q.bits_per_weight(n, 3, 64, Q.cherry_count(n, 1 / 256)) for n in (576, 1536)}
    assert all(Q.bits_per_weight(n, 3, g, 0) >= b for n, b in need.items())
    assert any(Q.bits_per_weight(n, 3, g + 1, 0) < b for n, b in need.items())  # the largest such group


def test_qat_run_logs_code_change_and_restores_plain_linears():
    from llmrepro.cherryq import experiments as E
    from llmrepro.cherryq.config import EvalCfg, QatCfg

    model = _tiny_llama()
    stream = torch.randint(0, 64, (4000,), generator=torch.Generator().manual_seed(4)).numpy()
    test = {"x": stream[:400]}
    imp = I.fisher(model, torch.from_numpy(stream[:64].reshape(4, 16)).long())
    cfg = QatCfg(methods={2: ["impact"]}, group=16, fraction=1 / 16, seeds=[0], steps=3, batch=2, lr=0.05, warmup=0)
    row = E.qat_run(model, imp, stream, test, cfg, EvalCfg(windows=2, seq_len=16, batch=2), 2, "impact", 0, 16)
    assert 0 < row["code_change"] <= 1  # lr 0.05 moves codes
    # 32 inputs, 2 cherries: (2*30 + 16*2 + 32*2) / 32; 48 inputs, 3 cherries: (2*45 + 16*3 + 32*3) / 48
    assert row["bpw"] == pytest.approx(4.875)
    assert all(type(m) is torch.nn.Linear for m in Q.target_linears(model).values())
    small = QatCfg(**{**cfg.model_dump(), "lr": 1e-9})
    assert E.qat_run(model, imp, stream, test, small, EvalCfg(windows=2, seq_len=16, batch=2), 2, "impact", 0,
                     16)["code_change"] == 0.0


def test_gptq_of_a_model_stacks_shared_hessians_exactly():
    model = _tiny_llama()
    seqs = torch.randint(0, 64, (3, 10), generator=torch.Generator().manual_seed(5))
    H = G.hessians(model, seqs)
    lins = Q.target_linears(model)
    one_by_one = {n: G.gptq(m.weight, H[n], 3, 8) for n, m in lins.items()}
    G.quantize_model(model, H, 3, 8)
    for n, m in lins.items():
        assert torch.allclose(m.weight, one_by_one[n], atol=1e-6), n


# ---------------------------------------------------------------- report metrics on hand-built inputs

T95_2 = 4.302652729911275  # Student t, 0.975 quantile, 2 degrees of freedom
T95_1 = 12.706204736174707


def _run(method, r, ppl, change=0.05, bpw=2.38, bits=2):
    return {"method": method, "bits": bits, "replicate": r, "both": ppl, "code_change": change, "bpw": bpw}


def test_qat_metrics_by_hand():
    from llmrepro.cherryq.report import qat_metrics

    runs = [_run("impact", r, v, change=c) for r, v, c in ((0, 10, 0.04), (1, 11, 0.05), (2, 12, 0.06))]
    runs += [_run("qat_equal_bits", r, v, bpw=2.40, change=0.03 + 0.01 * r) for r, v in ((0, 11), (1, 13), (2, 12))]
    runs += [_run("random", r, v) for r, v in ((0, 12), (1, 12), (2, 15))]
    runs += [_run("magnitude", r, v) for r, v in ((0, 10), (1, 12), (2, 11))]
    runs += [_run("impact", 0, 99.0, bits=3)]  # another width: ignored
    ptq = [{"method": "fp", "bits": 16, "replicate": None, "both": 8.0}]
    ptq += [{"method": "gptq", "bits": 2, "replicate": r, "both": v} for r, v in ((0, 12), (1, 12), (2, 13))]
    ptq += [{"method": "gptq_equal_bits", "bits": 2, "replicate": r, "both": 11.0} for r in range(3)]
    q = qat_metrics(runs, ptq, 2)
    half = T95_2 / 3 ** 0.5  # sd 1 over three replicates
    assert q["impact"]["value"] == pytest.approx(11) and q["impact"]["ci"] == pytest.approx([11 - half, 11 + half])
    assert q["cherryq_minus_qat_equal_bits"]["value"] == pytest.approx(-1)  # -1, -2, 0
    assert q["cherryq_minus_qat_equal_bits"]["ci"] == pytest.approx([-1 - half, -1 + half])
    assert q["cherryq_minus_gptq"]["value"] == pytest.approx(-4 / 3)  # -2, -1, -1
    assert q["cherryq_minus_gptq"]["sd"] == pytest.approx(3 ** -0.5)
    assert q["cherryq_minus_gptq_equal_bits"]["value"] == pytest.approx(0)  # -1, 0, 1
    assert q["impact_minus_random"]["value"] == pytest.approx(-2)  # -2, -1, -3
    assert q["impact_minus_magnitude"]["value"] == pytest.approx(0)  # 0, -1, 1
    assert q["cherryq_minus_qat"] is None and q["impact_minus_magnitude_prescale"] is None  # arms not run
    assert q["code_change_min"] == pytest.approx(0.03)
    assert q["code_change"]["impact"]["value"] == pytest.approx(0.05)
    assert q["equal_bits"] is True and q["bpw"] == {"qat_equal_bits": 2.40, "impact": 2.38, "random": 2.38,
                                                    "magnitude": 2.38}
    assert q["qat_gap_closed"] == pytest.approx((12 - 11) / (12 - 8))
    runs = [dict(r, bpw=2.30) if r["method"] == "qat_equal_bits" else r for r in runs]
    assert qat_metrics(runs, ptq, 2)["equal_bits"] is False  # a baseline with fewer bits is not like for like


def test_ptq_metrics_by_hand():
    import math

    from llmrepro.cherryq.report import ptq_metrics

    e = math.exp
    rows = [{"method": "fp", "bits": 16, "replicate": None, "both": 10.0},
            {"method": "rtn", "bits": 2, "replicate": None, "both": 20.0},
            {"method": "rtn+magnitude", "bits": 2, "replicate": None, "both": e(3)},
            {"method": "rtn+magnitude_prescale", "bits": 2, "replicate": None, "both": e(4)},
            *({"method": "rtn+impact", "bits": 2, "replicate": r, "both": e(v)} for r, v in ((0, 2), (1, 2.5))),
            *({"method": "rtn+random", "bits": 2, "replicate": r, "both": e(v)} for r, v in ((0, 5), (1, 6))),
            *({"method": "gptq", "bits": 2, "replicate": r, "both": v} for r, v in ((0, 15.0), (1, 17.0)))]
    m = ptq_metrics(rows, 2)
    assert m["rtn_ratio"] == pytest.approx(2.0)
    assert m["gptq_minus_rtn"]["value"] == pytest.approx(-4)  # -5, -3: sd sqrt(2), two replicates
    assert m["gptq_minus_rtn"]["ci"] == pytest.approx([-4 - T95_1, -4 + T95_1])
    assert m["impact_minus_magnitude"]["value"] == pytest.approx(-0.75)  # log ppl: -1, -0.5
    assert m["impact_minus_random"]["value"] == pytest.approx(-3.25)  # -3, -3.5
    assert m["scale_effect"]["value"] == pytest.approx(1.0) and m["scale_effect"]["ci"] is None  # one value
    assert m["impact_minus_obd"] is None  # not run
    assert ptq_metrics(rows, 3) == {"rtn_ratio": None, "gptq_minus_rtn": None, "impact_minus_magnitude": None,
                                    "impact_minus_magnitude_prescale": None, "impact_minus_random": None,
                                    "impact_minus_obd": None, "scale_effect": None}


def test_page_numbers_come_from_metrics_and_params():
    from types import SimpleNamespace as NS

    from llmrepro.cherryq.report import narrative, table1

    setup = lambda params, ins, ks, f: {"params": params, "in_features": ins, "cherries_per_row": ks, "fraction": f}
    m = {"setup": {"tiny": {"qat": setup(12_345, [32, 64], [1, 2], 1 / 32)},
                   "pretrained": setup(7_000_000, [16], [1], 1 / 16)}}
    pre = NS(ptq=NS(group=8, bits=[4]), calib=NS(seeds=[5, 6], sequences=1, length=16), data=NS(eval_split="valid"))
    tiny = NS(qat=NS(steps=10, batch=2, lr=0.01), calib=NS(length=16))
    text = narrative(m, NS(cherryq=NS(pretrained=pre, tiny=tiny)))
    assert "10 steps of 2 windows of 16 tokens at peak lr 0.01 (0.03 training" in text  # 320 / 12,345
    for s in ("0.01 M parameters", "1/32 (1 of 32, 2 of 64 inputs", "7 M parameters", "4-bit RTN with groups of 8",
              "1/16 (1 of 16 inputs", "2 subsets of 1 train-split windows of\n16 tokens", "seeds 5, 6", "**valid**"):
        assert s in text, s
    for mini in ("1.4 M", "576", "1/128", "groups of 64"):  # nothing of the mini run leaks in (1/256 is the paper's)
        assert mini not in text, mini
    rows = [{"method": "fp", "bits": 16, "replicate": None, "group": None, "bpw": 16.0, "both": 9.0},
            {"method": "rtn", "bits": 4, "replicate": None, "group": 8, "bpw": 6.0, "both": 11.0}]
    t = table1({"ptq_tiny": {"rows": rows}, "ptq_pretrained": {"rows": rows}, "qat": {}}, 4)
    assert "perplexity at 4 bits" in t and "| RTN | 11.00 (6.00 b/w, g8) | 11.00 (6.00 b/w, g8) | – |" in t
    assert "| **CherryQ**" not in t and "GPTQ |" not in t  # rows with nothing measured are left out


def test_heterogeneity_equals_the_sorted_definition():
    g = torch.Generator().manual_seed(6)
    for n in (150, 1000, 4096):
        x = torch.rand(n, generator=g) ** 8
        vals = x.double().sort(descending=True).values
        k = max(1, round(0.01 * n))
        assert I.heterogeneity(x) == pytest.approx(float(vals[:k].mean() / vals[k:].max()), rel=1e-12)
    assert I.heterogeneity(torch.ones(1)) != I.heterogeneity(torch.ones(1))  # NaN: no bottom 99 %
