"""freq: the paper's binned statistic, concept extraction, the world and the tiny CLIP."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, SHARED_MIRROR
from llmrepro.freq import analysis as A
from llmrepro.freq import extraction as X
from llmrepro.freq import world as W
from llmrepro.freq.config import TaggerCfg


def test_binned_rho_follows_the_notebook_binning():
    # ln counts span [0, 11]: the 12 edges are 0, 1, ..., 11, and digitize(right=True)
    # puts ln = k - 0.5 in bin k and ln = 0 (a zero count, clamped to 1) alone in bin 0
    counts = np.exp([0.0, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.0])
    counts[0] = 0
    acc = np.array([50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 90, 100.0])
    edges, means, sizes = A.binned(counts, acc)
    assert edges == pytest.approx(np.arange(12.0))
    assert sizes.tolist() == [1] * 11 + [2]
    assert means.tolist() == [50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 95]
    # the end bins (50 and 99) are dropped: the remaining means are linear in the edges
    assert A.binned_rho(counts, acc)["value"] == pytest.approx(1.0)
    assert A.binned_rho(counts, acc, drop_low=0, drop_high=0)["value"] < 0.9
    # bins below the minimum size are left out and counted: here every kept bin holds one concept
    small = A.binned_rho(counts, acc, min_size=2)
    assert small["value"] is None and small["small_bins"] == 10 and small["bins_used"] == 0


def test_binned_rho_logs_empty_bins_instead_of_dropping_them_silently():
    counts = np.exp([0.0, 1.0, 2.0, 9.0, 10.0, 11.0])  # edges 0..11: bins 3-8 are empty
    acc = [5.0, 1.0, 2.0, 9.0, 10.0, 20.0]
    r = A.binned_rho(counts, acc)
    assert r["empty_bins"] == 6 and r["bins_used"] == 4
    assert r["value"] == pytest.approx(np.corrcoef([1, 2, 9, 10], [1, 2, 9, 10])[0, 1])


@pytest.mark.parametrize("counts,acc,why", [
    ([], [], "0 finite pair"),  # empty
    ([5, 5, 5, 5], [1, 2, 3, 4], "constant"),  # one count: no bins, no slope
    ([1, 10, 100, 1000], [50, 50, 50, 50], "constant"),  # flat accuracy
    ([1, 10], [1, 2], "a correlation needs 3"),
])
def test_binned_rho_and_slope_on_degenerate_inputs(counts, acc, why):
    rho = A.binned_rho(counts, acc)
    assert rho["value"] is None and rho["why"]
    r = A.per_concept(counts, acc)
    assert r["pearson_r"] is None and why in r["why"]
    s = A.slope(counts, acc)
    if len(set(counts)) < 2:  # no spread in x: no slope, no interval
        assert s["value"] is None and s["why"]
        boot = A.pooled_slope_ci([(counts, acc)], n_boot=20)
        assert boot["ci"] is None and boot["why"]


def test_slope_on_overflowing_counts():
    counts = [1e300, 1e301, 1e302, 1e303]
    s = A.slope(counts, [1.0, 2.0, 3.0, 4.0])
    assert s["value"] == pytest.approx(1.0)


def test_per_concept_and_rare_gap():
    counts = [1, 10, 100, 1000] * 5
    acc = [10, 20, 30, 40] * 5
    assert A.per_concept(counts, acc)["pearson_r"] == pytest.approx(1.0)
    assert A.slope_ci(counts, acc, n_boot=50)["value"] == pytest.approx(10.0)
    assert A.slope(counts, acc)["value"] == pytest.approx(10.0)
    g = A.rare_gap(counts, acc, fraction=0.25)
    assert g["rare_mean"] == 10 and g["all_mean"] == 25 and g["gap"] == 15


FIG = "notebooks/plots/eccv-paper-cc3m-zero-shot-log-linear-plot-integrated-queried-search"


def test_replay_reproduces_both_prompt_sets_from_the_authors_figures(tmp_path):
    from llmrepro.data.sources import GithubSource, fetch_github
    from llmrepro.freq.config import Pair, ReplayCfg
    from llmrepro.freq.replay import files, replay

    src = GithubSource(repo="bethgelab/frequency_determines_performance",
                       commit="11ef009f9d0d9c0d190b4ede58e07d378ef79d32")
    if not (SHARED_MIRROR / "github" / src.repo / src.commit / "LICENSE").is_file():
        pytest.skip("the shared mirror of the released data is not beside this checkout")
    cfg = ReplayCfg(pairs=[Pair(set="ensemble", pretrain="cc3m", model="RN50", legend_rho=0.96,
                                figure=f"{FIG}-ensemble.png"),
                           Pair(set="class", prompt="class", pretrain="cc3m", model="ViT-B-16", legend_rho=0.93,
                                figure=f"{FIG}.pdf")], n_boot=20)
    for f in files(cfg):
        fetch_github(src, f, tmp_path)
    out = replay(tmp_path, cfg)
    ens, cls = out["pairs"]["ensemble/cc3m/RN50"], out["pairs"]["class/cc3m/ViT-B-16"]
    assert ens["binned_rho"] == pytest.approx(0.961, abs=5e-4) and ens["read"].startswith("by eye")
    assert ens["pearson_r"] == pytest.approx(0.585, abs=5e-4)  # per concept: far below the binned value
    assert ens["n"] == 4469
    assert cls["legend_rho"] == 0.93 and cls["read"].startswith("from the vector figure")
    assert cls["binned_rho"] == pytest.approx(0.931, abs=5e-4)  # the class prompt's accuracies, not the ensemble's
    assert out["sets"]["class"]["max_abs_diff"] < 0.005
    assert out["let_it_wag"]["models"] == 20
    assert out["let_it_wag"]["mean_drop_pp"] == pytest.approx(21.43, abs=0.01)


def test_legend_values_are_read_from_a_vector_figure(tmp_path):
    from fixture_mirror import legend_pdf

    from llmrepro.freq.config import Pair
    from llmrepro.freq.replay import legend_entry, legend_values, reference

    legend_pdf(tmp_path / "f.pdf", [("RN50", 0.97), ("ViT-B-16", 0.83), ("image-text-search", 0.82)])
    pdf = (tmp_path / "f.pdf").read_bytes()
    assert legend_values(pdf) == {"RN50": 0.97, "ViT-B-16": 0.83, "image-text-search": 0.82}
    pair = lambda **kw: Pair(**{"set": "class", "pretrain": "cc3m", "model": "ViT-B-16", "legend_rho": 0.83,
                                "figure": "f.pdf", **kw})
    assert legend_entry(pdf, pair()) == 0.83
    assert legend_entry(pdf, pair(model="x", label="image-text-search")) == 0.82
    with pytest.raises(ValueError, match="no legend entry 'RN101'"):
        legend_entry(pdf, pair(model="RN101"))
    assert reference(pair())["read"].startswith("from the vector figure")
    assert reference(pair(figure="f.png", legend_rho=0.5)) == {"legend_rho": 0.5, "figure": "f.png",
                                                               "read": "by eye from the raster figure"}


def test_every_vector_figure_value_in_params_is_what_the_figure_prints():
    """The params' legend values for the PDFs, against the authors' files themselves. The pipeline
    does not download the figures, so this reads them where they are: the shared mirror when it
    carries them."""
    import yaml

    from llmrepro.freq.config import ReplayCfg
    from llmrepro.freq.replay import legend_entry

    raw = yaml.safe_load((ROOT / "configs/mini.yaml").read_text())["freq"]
    cfg, src = ReplayCfg.model_validate(raw["replay"]), raw["source"]
    base = SHARED_MIRROR / "github" / src["repo"] / src["commit"]
    pdfs = [p for p in cfg.pairs if p.figure.endswith(".pdf")]
    assert pdfs
    missing = [p.figure for p in pdfs if not (base / p.figure).is_file()]
    if missing:
        pytest.skip(f"the authors' vector figures are not in the shared mirror: {missing[:2]}")
    for p in pdfs:
        assert legend_entry((base / p.figure).read_bytes(), p) == p.legend_rho, p.figure


def test_text_index_lemmatises_and_ands_unigrams():
    caps = ["two mice in the kitchen", "a mouse near the wall", "a fire hydrant on the street",
            "fire in the street", "many geese near a hydrant"]
    lem = X.build_index(caps, "lemmatized")
    low = X.build_index(caps, "lowercased")
    assert X.text_hits(lem, "mouse", "lemmatized") == {0, 1}
    assert X.text_hits(low, "mouse", "lowercased") == {1}  # the plural is missed without lemmas
    assert X.text_hits(lem, "fire hydrant", "lemmatized") == {2}  # AND of the two words
    assert X.text_hits(lem, "goose", "lemmatized") == {4}
    # a unigram absent from the index is dropped, not a reason for zero hits
    assert X.text_hits(lem, "hydrant zzzq", "lemmatized") == {2, 4}
    with pytest.raises(ValueError, match="mode 'stemmed'"):
        X.tokens("x", "stemmed")


def test_tagger_gradient_equals_autograd_on_the_balanced_bce():
    import torch

    g = torch.Generator().manual_seed(0)
    Xs, y = torch.randn(30, 5, generator=g), torch.randint(0, 4, (30,), generator=g)
    lin = torch.nn.Linear(5, 4)
    torch.nn.functional.binary_cross_entropy_with_logits(
        lin(Xs), torch.nn.functional.one_hot(y, 4).float(), pos_weight=torch.full((4,), 7.0)).backward()
    ref = lin.weight.grad.clone(), lin.bias.grad.clone()
    X.tagger_grad(lin, Xs, y, 7.0)
    assert torch.allclose(lin.weight.grad, ref[0], atol=1e-7) and torch.allclose(lin.bias.grad, ref[1], atol=1e-7)


def test_tagger_tags_at_the_threshold():
    import torch

    lin = torch.nn.Linear(2, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[10.0, 0], [0, 10.0], [0, 0]]))
        lin.bias.copy_(torch.tensor([0.0, 0.0, 0.0]))  # third concept: p = 0.5 < 0.7
    tags = X.tag(lin, np.array([[1.0, 0], [1.0, 1.0], [-1.0, -1.0]], np.float32), 0.7)
    assert tags == [{0}, {0, 1}, set()]


def test_world_is_seeded_zipf_and_misaligned():
    cfg = W.WorldCfg(concepts=40, pairs=6000, dim=16, misalignment_rate=0.2, two_concept_rate=0.0)
    a, b = W.generate(cfg, 7), W.generate(cfg, 7)
    assert a.captions == b.captions and np.array_equal(a.images, b.images)
    counts = np.bincount([c for cs in a.text_concepts for c in cs], minlength=40)
    order = np.argsort(a.freq_rank)  # concepts from most to least frequent
    assert counts[order[0]] > 10 * counts[order[-1]]
    mis = np.mean([t != s for t, s in zip(a.text_concepts, a.image_concepts)])
    assert 0.15 < mis < 0.22  # misaligned pairs can redraw the same concept by chance
    # the plural form is recorded exactly where a caption uses it
    for cap, named, plural in zip(a.captions, a.text_concepts, a.plural_named):
        assert set(plural) <= set(named)
        for c in plural:
            assert f" {a.plurals[c]} " in f" {cap} "
    uniform = W.generate(cfg.model_copy(update={"zipf_s": 0.0}), 7)
    u = np.bincount([c for cs in uniform.text_concepts for c in cs], minlength=40)
    assert u.max() < 2 * u.min()


def test_clip_text_embedding_ignores_padding():
    import torch

    from llmrepro.freq.clip import TinyClip, encode
    from llmrepro.freq.config import ClipCfg
    from llmrepro.freq.experiment import tokenizer_for

    w = W.generate(W.WorldCfg(concepts=10, pairs=50, dim=8), 0)
    tok = tokenizer_for(w)
    model = TinyClip(len(tok), 8, ClipCfg(hidden=16, layers=1, heads=2, embed=8, max_len=24)).eval()
    with torch.no_grad():
        short = model.encode_text(*encode(tok, ["a photo of a " + w.names[0]], 12))
        long = model.encode_text(*encode(tok, ["a photo of a " + w.names[0]], 24))
    assert torch.allclose(short, long, atol=1e-5)


def test_pooled_slope_ci_equals_a_brute_force_bootstrap():
    """The same resamples, one np.polyfit each: concepts within every world, then worlds; the
    interval is the 2.5th and 97.5th percentile (a 90 % interval would give other numbers)."""
    rng = np.random.default_rng(5)
    runs = [(rng.integers(0, 3000, 40), rng.uniform(0, 100, 40)), (rng.integers(0, 300, 30), rng.uniform(0, 100, 30)),
            (rng.integers(0, 30, 35), rng.uniform(0, 100, 35))]
    got = A.pooled_slope_ci(runs, n_boot=300, seed=7)
    draw = np.random.default_rng(7)
    xs = [np.log10(np.maximum(np.asarray(c, float), 1)) for c, _ in runs]
    ys = [np.asarray(a, float) for _, a in runs]
    idx = [draw.integers(0, len(x), (300, len(x))) for x in xs]
    pick = draw.integers(0, 3, (300, 3))
    boots = [np.mean([np.polyfit(xs[r][idx[r][b]], ys[r][idx[r][b]], 1)[0] for r in pick[b]]) for b in range(300)]
    assert got["value"] == pytest.approx(np.mean([np.polyfit(x, y, 1)[0] for x, y in zip(xs, ys)]))
    assert got["ci"] == pytest.approx(list(np.percentile(boots, [2.5, 97.5])), rel=1e-9)
    assert got["ci"] != pytest.approx(list(np.percentile(boots, [5, 95])), rel=1e-3)
    assert got["level"] == 0.95 and got["n_boot"] == 300 and got["runs"] == 3


def test_pooled_ci_weights_give_a_difference_of_group_means():
    a = [[([1.0, 2, 3, 4], [10.0, 20, 30, 40])], [([1.0, 2, 3, 4], [10.0, 20, 30, 40]), ([1.0, 2, 3], [3.0, 2, 1])]]
    d = A.pooled_ci(a, A.pearson_rows, n_boot=100, weights=[1, -1])
    assert d["value"] == pytest.approx(1.0 - 0.0) and d["per_run"] == pytest.approx([1.0, 1.0, -1.0])
    one = A.pooled_ci([a[0]], A.pearson_rows, n_boot=100)
    assert one["value"] == 1.0 and one["ci"] == pytest.approx([1.0, 1.0])  # exactly linear in every resample


def _hand_world():
    """Six captions over three concepts, images one-hot along their concept's axis."""
    V = np.eye(3)
    caps = ["two mice in the kitchen", "a mouse near the wall", "a goose on the grass", "three geese in the field",
            "a kettle on the floor", "the goose in the yard"]
    named = [[0], [0], [1], [1], [2], [1]]
    shown = [[0], [0], [1], [1], [1], [2]]  # the kettle caption shows a goose; the last goose caption a kettle
    return W.World(["mouse", "goose", "kettle"], ["mice", "geese", "kettles"], V, caps,
                   np.stack([V[s[0]] for s in shown]).astype(np.float32), named, shown, np.arange(3),
                   [[0], [], [], [1], [], []])


def test_extract_on_a_hand_built_world(monkeypatch):
    w = _hand_world()
    # an oracle tagger: the concept whose axis the image lies on
    monkeypatch.setattr(X, "train_tagger", lambda x, y, K, *a, **k: None)
    monkeypatch.setattr(X, "tag", lambda tagger, images, thr: [{int(np.argmax(v))} for v in images])
    out = X.extract(w, TaggerCfg(), 0.1, 0)
    c = out["counts"]
    assert c["text_lemmatized"] == [2, 3, 1] and c["text_lowercased"] == [1, 2, 1]  # plurals need the lemmatiser
    assert c["image"] == [2, 3, 1] and c["true_image"] == [2, 3, 1]
    assert c["integrated"] == [2, 2, 0] and c["true_integrated"] == [2, 2, 0]
    r = out["recall"]
    assert r["lemmatized_all"] == 1.0 and r["lemmatized_plural"] == 1.0
    assert r["lowercased_plural"] == 0.0 and r["lowercased_singular"] == 1.0
    assert r["lowercased_all"] == pytest.approx(4 / 6)
    assert out["tagger"]["recall"] == [1.0, 1.0, 1.0] and out["tagger"]["precision"] == [1.0, 1.0, 1.0]
    # misaligned: text names one concept, the image is tagged another, and they are disjoint
    assert out["misalignment_degree"] == pytest.approx(2 / 6)
    assert out["zero_integrated"] == 1


def _mini_inputs():
    """Two Zipf worlds and two uniform controls of five concepts each, values chosen by hand."""
    acc = [10.0, 20.0, 30.0, 40.0, 50.0]
    zipf = {"counts": {"integrated": [1, 10, 100, 1000, 10000], "true_integrated": [1, 10, 100, 1000, 10000]},
            "tagger": {"recall": [0.5, 0.6, 0.7, 0.8, 0.9], "precision": [1.0] * 5},
            "text": {"precision": [1.0] * 5}}
    # a uniform control whose measured counts follow accuracy while the true counts do not
    ctrl = {"counts": {"integrated": [100, 200, 300, 400, 500], "true_integrated": [300, 100, 500, 200, 400]},
            "tagger": {"recall": [0.2, 0.4, 0.6, 0.8, 1.0], "precision": [1.0] * 5},
            "text": {"precision": [1.0] * 5}}
    common = {"recall": {"lemmatized_plural": 0.99, "lemmatized_singular": 1.0, "lowercased_plural": 0.02},
              "spearman_integrated_vs_true": 0.97, "zero_integrated": 0, "misalignment_degree": 0.1, "decades": 4.0}
    counts = {n: {**(zipf if n.startswith("seed") else ctrl), **common} for n in ("seed1", "seed2", "uniform1",
                                                                                   "uniform2")}
    zs = {n: {"acc": acc, "mean_acc": 30.0} for n in counts}
    return counts, zs


def test_mini_metrics_on_hand_built_worlds():
    from llmrepro.freq.report import mini_metrics

    counts, zs = _mini_inputs()
    m = mini_metrics(counts, zs, [1, 2], [1, 2], min_bin=1)
    # Zipf: 10 points per decade, exactly linear
    assert m["slope_pp_per_decade"]["value"] == pytest.approx(10.0)
    assert m["pearson_r"]["value"] == pytest.approx(1.0) and m["pearson_r"]["runs"] == 2
    assert m["mean_acc"]["value"] == 30.0
    # rarest decile = 1 concept of 5: gap 30 - 10 = 20 in both groups (uniform: count 100 is rarest)
    assert m["rare_gap"]["value"] == pytest.approx(20.0) and m["rare_gap_control"]["value"] == pytest.approx(20.0)
    assert m["rare_gap_excess"]["value"] == pytest.approx(0.0)
    # C4 reads the true counts: r(log10 [300,100,500,200,400], acc), not the measured ones
    true_r = np.corrcoef(np.log10([300, 100, 500, 200, 400]), zs["uniform1"]["acc"])[0, 1]
    meas_r = np.corrcoef(np.log10([100, 200, 300, 400, 500]), zs["uniform1"]["acc"])[0, 1]
    assert m["uniform"]["pearson_r_true"]["value"] == pytest.approx(true_r)
    assert m["uniform"]["pearson_r_measured"]["value"] == pytest.approx(meas_r)
    assert m["confound"]["r_measured_minus_true"]["value"] == pytest.approx(meas_r - true_r)
    assert m["confound"]["r_tagger_recall_acc"]["value"] == pytest.approx(1.0)
    assert m["uniform"]["acc_minus_zipf"] == 0.0
    ex = m["extraction"]
    assert ex["spearman_min"] == 0.97 and ex["recall_lemmatized_plural_min"] == 0.99
    assert ex["tagger_recall_median"] == {"seed1": 0.7, "seed2": 0.7, "uniform1": 0.6, "uniform2": 0.6}
    assert m["per_world"]["seed1"]["binned"]["value"] == pytest.approx(1.0)
    assert m["empty_bins"] == [m["per_world"]["seed1"]["binned"]["empty_bins"]] * 2


def test_c2_interval_is_the_t_interval_over_worlds():
    """mini_metrics' C2 interval is the 95 % Student-t interval over the Zipf worlds' per-world slopes."""
    from scipy import stats

    from llmrepro.freq.report import mini_metrics

    counts, zs = _mini_inputs()
    rng = np.random.default_rng(1)
    for n in ("seed1", "seed2"):
        counts[n] = {**counts[n], "counts": {"integrated": list(rng.integers(1, 10000, 30)),
                                             "true_integrated": list(rng.integers(1, 10000, 30))},
                     "tagger": {"recall": list(rng.uniform(0, 1, 30)), "precision": [1.0] * 30},
                     "text": {"precision": [1.0] * 30}}
        zs[n] = {"acc": list(rng.uniform(0, 100, 30)), "mean_acc": 50.0}
    m = mini_metrics(counts, zs, [1, 2], [1, 2], min_bin=1)
    s = [np.polyfit(np.log10(np.maximum(counts[n]["counts"]["integrated"], 1)), zs[n]["acc"], 1)[0]
         for n in ("seed1", "seed2")]
    half = stats.t.ppf(0.975, 1) * np.std(s, ddof=1) / np.sqrt(2)
    assert m["slope_pp_per_decade"]["ci"] == pytest.approx([np.mean(s) - half, np.mean(s) + half])
    assert m["slope_pp_per_decade"]["per_run"] == pytest.approx(s)


def _linear_worlds(slopes, n=40, seed=0):
    """Worlds whose accuracy is exactly linear in log10(count): no concept noise, only worlds differ."""
    rng = np.random.default_rng(seed)
    out = []
    for b in slopes:
        c = rng.integers(1, 10000, n)
        out.append((c, 5.0 + b * np.log10(c)))
    return out


def test_worlds_ci_covers_a_between_world_shift_the_bootstrap_missed():
    """Issue 19: three worlds that differ (slopes 10, 20, 30; no concept noise). The two-level percentile
    bootstrap cannot reach past the most extreme world; a fresh world from the same spread (slope 38) lies
    outside it. The t-interval over worlds (2 degrees of freedom) covers it."""
    from scipy import stats

    runs = _linear_worlds([10.0, 20.0, 30.0])
    boot = A.pooled_slope_ci(runs, n_boot=2000, seed=0)
    t = A.worlds_slope_ci(runs)
    assert boot["ci"][0] >= 10.0 - 1e-9 and boot["ci"][1] <= 30.0 + 1e-9  # bounded by the extreme worlds
    half = stats.t.ppf(0.975, 2) * 10.0 / np.sqrt(3)
    assert t["value"] == pytest.approx(20.0) and t["ci"] == pytest.approx([20.0 - half, 20.0 + half])
    assert t["df"] == pytest.approx(2.0) and t["per_run"] == pytest.approx([10.0, 20.0, 30.0])
    assert not boot["ci"][0] <= 38.0 <= boot["ci"][1] and t["ci"][0] <= 38.0 <= t["ci"][1]
    assert t["ci"][1] - t["ci"][0] > 2 * (boot["ci"][1] - boot["ci"][0])


def test_worlds_ci_difference_of_groups_is_welch():
    from scipy import stats

    a, b = _linear_worlds([10.0, 14.0, 12.0], seed=1), _linear_worlds([2.0, 4.0], seed=2)
    cols = lambda runs: [(A.log10_count(c), y) for c, y in runs]
    d = A.worlds_ci([cols(a), cols(b)], A.slope_rows, weights=[1, -1])
    va, vb = np.var([10.0, 14.0, 12.0], ddof=1) / 3, np.var([2.0, 4.0], ddof=1) / 2
    df = (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 1)
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    assert d["value"] == pytest.approx(12.0 - 3.0) and d["df"] == pytest.approx(df)
    assert d["ci"] == pytest.approx([9.0 - half, 9.0 + half])


def test_worlds_ci_degenerate_inputs():
    same = _linear_worlds([7.0, 7.0, 7.0])
    z = A.worlds_slope_ci(same)
    assert z["value"] == pytest.approx(7.0) and z["ci"] == pytest.approx([7.0, 7.0])  # identical worlds
    one = A.worlds_slope_ci(same[:1])
    assert one["value"] == pytest.approx(7.0) and one["ci"] is None and "fewer than two worlds" in one["why"]
    flat = [(np.full(10, 100), np.arange(10.0)), (np.arange(1, 11) * 10, np.arange(10.0))]  # a constant x
    bad = A.worlds_ci([[(A.log10_count(c), y) for c, y in flat]], A.pearson_rows)
    assert bad["value"] is None and "undefined" in bad["why"] and bad["per_run"][0] is None
    empty = A.worlds_ci([[([], [])]], A.pearson_rows)
    assert empty["value"] is None and "no concepts" in empty["why"]
    huge = A.worlds_slope_ci([(c, y * 1e300) for c, y in _linear_worlds([1.0, 2.0])])
    assert huge["value"] is None or np.isfinite(huge["value"])


def test_near_threshold_flags_intervals_close_to_a_threshold():
    from llmrepro.freq.claims import CLAIMS
    from llmrepro.freq.report import near_threshold

    m = {"mini": {"rare_gap_excess": {"value": 22.1, "ci": [14.98, 28.6]},
                  "uniform": {"pearson_r_true": {"value": 0.06, "ci": [-0.03, 0.05]}},
                  "pearson_r": {"value": 0.72, "ci": [0.66, 0.77]}}}
    notes = near_threshold(m, CLAIMS)
    assert len(notes) == 1 and notes[0].startswith("C3 sits near its threshold")
    assert "[14.98, 28.6] against 15" in notes[0]


def test_bootstrap_claim_changes_keep_both_seed_blocks():
    from llmrepro.freq.claims import CHANGES

    rows = [c for c in CHANGES if "two-level percentile bootstrap" in c.old_test]
    assert {c.claim for c in rows} == {"C2", "C3", "C4", "C6"}
    c4 = [c for c in rows if c.claim == "C4"]
    assert len(c4) == 1 and "reproduced (committed seeds)" in c4[0].old_verdict
    assert "inconclusive (shifted seeds)" in c4[0].old_verdict and c4[0].old_measured.count("[") == 2
