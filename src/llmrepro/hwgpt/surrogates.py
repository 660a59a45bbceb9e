"""Surrogates of a hardware metric (one measurement of an architecture's latency) and of
perplexity, each with a predictive distribution:

- `mlp`: the paper's approach (AutoGluon's mean and log-std labels, here an MLP): one network
  predicts the mean and the log-std of the repeats, giving N(mean, std^2) per architecture; for
  perplexity a point predictor (no intervals);
- `ensemble`: a deep ensemble of MLPs trained with the Gaussian NLL on individual measurements,
  combined as a Gaussian mixture (Lakshminarayanan et al.);
- `quantile`: gradient-boosted quantile regression per interval end, split-conformal calibrated on
  held-out training architectures (conformalized quantile regression);
- `gp`: a homoscedastic GP (Matern 5/2 + white noise) on architecture means; one pooled noise
  variance for every architecture.

Every surrogate is fit on `y` of shape (architectures, repeats) (one column for perplexity) and
returns the mean prediction and intervals at the calibration levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmrepro.hwgpt import calibration as K


@dataclass
class Prediction:
    mean: np.ndarray
    lo: np.ndarray | None = None  # (architectures, levels)
    hi: np.ndarray | None = None
    std: np.ndarray | None = None  # Gaussian surrogates
    log_std: np.ndarray | None = None  # the predicted log-std of the repeats (heteroscedastic models)


class _Scaler:
    def __init__(self, X):
        X = np.asarray(X, float)
        self.mu, self.sd = X.mean(0), X.std(0)
        self.sd[self.sd == 0] = 1.0

    def __call__(self, X):
        return (np.asarray(X, float) - self.mu) / self.sd


def _repeat_rows(X, Y):
    """One row per measurement."""
    R = Y.shape[1]
    return np.repeat(X, R, axis=0), Y.reshape(-1)


def _log_std(Y) -> np.ndarray:
    sd = Y.std(axis=1, ddof=1) if Y.shape[1] > 1 else np.zeros(len(Y))
    return np.log(np.maximum(sd, 1e-12))


# ---- MLP (mean and log-std, the paper's labels)

def fit_mlp(X, Y, cfg, lv, seed: int) -> callable:
    from sklearn.neural_network import MLPRegressor

    sx = _Scaler(X)
    hetero = Y.shape[1] > 1
    T = np.column_stack([Y.mean(1), _log_std(Y)]) if hetero else Y.mean(1, keepdims=True)
    st = _Scaler(T)
    net = MLPRegressor(hidden_layer_sizes=tuple(cfg.hidden), alpha=cfg.alpha, max_iter=cfg.max_iter,
                       random_state=seed, learning_rate_init=1e-3, tol=1e-6, n_iter_no_change=50)
    net.fit(sx(X), st(T) if hetero else st(T).ravel())

    def predict(Xn) -> Prediction:
        out = net.predict(sx(Xn)).reshape(len(Xn), -1) * st.sd + st.mu
        if not hetero:
            return Prediction(mean=out[:, 0])
        sd = np.exp(out[:, 1])
        lo, hi = K.gaussian_intervals(out[:, 0], sd, lv)
        return Prediction(mean=out[:, 0], lo=lo, hi=hi, std=sd, log_std=out[:, 1])

    return predict


# ---- deep ensemble with the Gaussian NLL

def fit_ensemble(X, Y, cfg, lv, seed: int) -> callable:
    import torch

    sx = _Scaler(X)
    xr, yr = _repeat_rows(sx(X), Y)
    ym, ys = yr.mean(), yr.std() or 1.0
    xt = torch.tensor(xr, dtype=torch.float32)
    yt = torch.tensor((yr - ym) / ys, dtype=torch.float32)
    nets = []
    for m in range(cfg.members):
        torch.manual_seed(seed * 1000 + m)
        net = torch.nn.Sequential(torch.nn.Linear(xt.shape[1], cfg.hidden), torch.nn.ReLU(),
                                  torch.nn.Linear(cfg.hidden, cfg.hidden), torch.nn.ReLU(),
                                  torch.nn.Linear(cfg.hidden, 2))
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        for _ in range(cfg.epochs):  # full batch: a few hundred to a few thousand rows
            out = net(xt)
            loss = torch.nn.functional.gaussian_nll_loss(out[:, 0], yt, torch.nn.functional.softplus(out[:, 1]) + 1e-6)
            opt.zero_grad()
            loss.backward()
            opt.step()
        nets.append(net.eval())

    def predict(Xn) -> Prediction:
        with torch.no_grad():
            x = torch.tensor(sx(Xn), dtype=torch.float32)
            outs = [n(x) for n in nets]
            mus = torch.stack([o[:, 0] for o in outs]).numpy() * ys + ym
            var = torch.stack([torch.nn.functional.softplus(o[:, 1]) + 1e-6 for o in outs]).numpy() * ys ** 2
        mean = mus.mean(0)
        sd = np.sqrt(np.maximum((var + mus ** 2).mean(0) - mean ** 2, 1e-18))
        lo, hi = K.gaussian_intervals(mean, sd, lv)
        return Prediction(mean=mean, lo=lo, hi=hi, std=sd, log_std=0.5 * np.log(var.mean(0)))

    return predict


# ---- conformalized quantile gradient boosting

def fit_quantile(X, Y, cfg, lv, seed: int) -> callable:
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(seed)
    n = len(X)
    calib = np.zeros(n, bool)
    calib[rng.permutation(n)[:max(1, int(round(cfg.calib_fraction * n)))]] = True
    xf, yf = _repeat_rows(X[~calib], Y[~calib])
    xc, yc = _repeat_rows(X[calib], Y[calib])

    def gbm(q):
        return HistGradientBoostingRegressor(loss="quantile", quantile=q, max_iter=cfg.max_iter,
                                             learning_rate=cfg.lr, max_leaf_nodes=cfg.max_leaf_nodes,
                                             random_state=seed).fit(xf, yf)

    median = gbm(0.5)
    ends, margins = [], []
    for c in lv:
        lo_m, hi_m = gbm(0.5 - c / 2), gbm(0.5 + c / 2)
        score = np.maximum(lo_m.predict(xc) - yc, yc - hi_m.predict(xc))
        k = min(len(score), int(np.ceil((len(score) + 1) * c)))  # split-conformal quantile
        margins.append(float(np.sort(score)[k - 1]))
        ends.append((lo_m, hi_m))

    def predict(Xn) -> Prediction:
        lo = np.column_stack([a.predict(Xn) - m for (a, _), m in zip(ends, margins)])
        hi = np.column_stack([b.predict(Xn) + m for (_, b), m in zip(ends, margins)])
        return Prediction(mean=median.predict(Xn), lo=lo, hi=hi)

    return predict


# ---- homoscedastic GP

def fit_gp(X, Y, cfg, lv, seed: int) -> callable:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    sx = _Scaler(X)
    d = X.shape[1]
    kernel = ConstantKernel(1.0) * Matern(length_scale=np.ones(d), nu=2.5) + WhiteKernel(1e-2)
    gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=cfg.restarts,
                                  random_state=seed).fit(sx(X), Y.mean(1))
    white = gp.kernel_.k2.noise_level * gp._y_train_std ** 2
    # one measurement = the architecture's mean + noise of one variance for all architectures
    pooled = float(Y.var(axis=1, ddof=1).mean()) if Y.shape[1] > 1 else 0.0

    def predict(Xn) -> Prediction:
        mean, sd = gp.predict(sx(Xn), return_std=True)
        latent = np.maximum(sd ** 2 - white, 0.0)
        total = np.sqrt(latent + (pooled if pooled > 0 else white))
        lo, hi = K.gaussian_intervals(mean, total, lv)
        return Prediction(mean=mean, lo=lo, hi=hi, std=total)

    return predict


FIT = {"mlp": fit_mlp, "ensemble": fit_ensemble, "quantile": fit_quantile, "gp": fit_gp}
HETEROSCEDASTIC = ("mlp", "ensemble", "quantile")


def evaluate(pred: Prediction, Y, lv, coverage_level: float) -> dict:
    """Held-out metrics: R^2 and Kendall tau of the mean against the observed architecture means,
    the predicted against the observed log-std, and calibration over every held-out measurement."""
    obs = Y.mean(1)
    out = {"r2": K.r2(obs, pred.mean), "kendall_tau": K.kendall(obs, pred.mean)}
    if pred.log_std is not None and Y.shape[1] > 1:
        out["log_std_r2"] = K.r2(_log_std(Y), pred.log_std)
    ind = None
    if pred.lo is not None:
        R = Y.shape[1]
        ind = K.inside(Y.reshape(-1), np.repeat(pred.lo, R, axis=0), np.repeat(pred.hi, R, axis=0))
    groups = np.repeat(np.arange(len(Y)), Y.shape[1])
    out["calibration"] = K.calibration(ind, lv, groups, coverage_level)
    return out, ind, groups
