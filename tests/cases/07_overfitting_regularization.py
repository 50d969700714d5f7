"""Exercise 07: plausible wrong answers (each must lose points on the right test cell) and
correct variants (each must score full marks), graded by tests/test_verdicts.py.

Every submission below is the reference solution with ONE function replaced by a mistake a
learner could make (folds without shuffling, validation rows leaking into training, a ridge
that penalizes the intercept, ISTA without the soft threshold, dropout that forgets to rescale
or treats p as the drop probability, an early-stopping counter that is never reset...). Each must lose points on the
test cell of the function it breaks, and only there or on the tests of later functions that
use it.
"""
from __future__ import annotations

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src

# Test cells that call a function besides its own test (the reference solution's calls and
# the hidden tests' finite differences).
CALLERS = {
    "kfold_indices": ("cross_val_score",),
    "soft_threshold": ("lasso_ista",),
    "dropout_forward": ("dropout_backward",),  # the gradient check differentiates the forward pass
}


_ISTA = """
    def lasso_ista(X, y, lam, n_iter=1000):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(y)
        x_mean, y_mean = X.mean(axis=0), y.mean()
        Xc, yc = X - x_mean, y - y_mean
        w = np.zeros(X.shape[1])
        lipschitz = np.linalg.norm(Xc, 2) ** 2 / n
        if lipschitz == 0:
            return w, float(y_mean)
        step = 1.0 / lipschitz
        for _ in range(n_iter):
            grad = Xc.T @ (Xc @ w - yc) / n
            w = soft_threshold(w - step * grad, step * lam)
        return w, float(y_mean - x_mean @ w)
"""


def _ista(old: str, new: str) -> str:
    body = _src(_ISTA)
    assert old in body, old
    return body.replace(old, new)


_EARLY = """
    def early_stopping(val_losses, patience, min_delta=0.0):
        best, best_epoch, waited = np.inf, 0, 0
        losses = [np.inf if np.isnan(float(v)) else float(v) for v in val_losses]
        for epoch, loss in enumerate(losses):
            if epoch == 0 or loss < best - min_delta:
                best, best_epoch, waited = loss, epoch, 0
            else:
                waited += 1
                if waited >= patience:
                    return best_epoch, epoch
        return best_epoch, len(losses) - 1
"""


def _early(old: str, new: str) -> str:
    body = _src(_EARLY)
    assert old in body, old
    return body.replace(old, new)


WRONG = [
    Wrong("kfold_without_shuffling", "kfold_indices", _src("""
        def kfold_indices(n, k, seed):
            if not (2 <= k <= n):
                raise ValueError("need 2 <= k <= n")
            folds = np.array_split(np.arange(n), k)
            return [(np.concatenate([f for j, f in enumerate(folds) if j != i]), folds[i]) for i in range(k)]
    """)),
    Wrong("kfold_trains_on_everything", "kfold_indices", _src("""
        def kfold_indices(n, k, seed):
            if not (2 <= k <= n):
                raise ValueError("need 2 <= k <= n")
            folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
            return [(np.arange(n), folds[i]) for i in range(k)]
    """)),
    Wrong("kfold_drops_the_remainder", "kfold_indices", _src("""
        def kfold_indices(n, k, seed):
            if not (2 <= k <= n):
                raise ValueError("need 2 <= k <= n")
            order = np.random.default_rng(seed).permutation(n)
            size = n // k
            folds = [order[i * size:(i + 1) * size] for i in range(k)]
            return [(np.setdiff1d(order, folds[i]), folds[i]) for i in range(k)]
    """)),
    Wrong("kfold_ignores_the_seed", "kfold_indices", _src("""
        def kfold_indices(n, k, seed):
            if not (2 <= k <= n):
                raise ValueError("need 2 <= k <= n")
            folds = np.array_split(np.random.default_rng(0).permutation(n), k)
            return [(np.concatenate([f for j, f in enumerate(folds) if j != i]), folds[i]) for i in range(k)]
    """)),
    Wrong("cv_leaks_validation_into_training", "cross_val_score", _src("""
        def cross_val_score(fit, predict, X, y, k, seed):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            params = fit(X, y)
            scores = np.array([np.mean((np.asarray(predict(params, X[val]), dtype=float) - y[val]) ** 2)
                               for train, val in kfold_indices(len(y), k, seed)])
            return float(scores.mean()), scores
    """)),
    Wrong("cv_scores_the_training_folds", "cross_val_score", _src("""
        def cross_val_score(fit, predict, X, y, k, seed):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            scores = []
            for train, val in kfold_indices(len(y), k, seed):
                params = fit(X[train], y[train])
                scores.append(np.mean((np.asarray(predict(params, X[train]), dtype=float) - y[train]) ** 2))
            scores = np.array(scores)
            return float(scores.mean()), scores
    """)),
    Wrong("cv_pools_instead_of_averaging_folds", "cross_val_score", _src("""
        def cross_val_score(fit, predict, X, y, k, seed):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            scores, sizes = [], []
            for train, val in kfold_indices(len(y), k, seed):
                params = fit(X[train], y[train])
                scores.append(np.mean((np.asarray(predict(params, X[val]), dtype=float) - y[val]) ** 2))
                sizes.append(len(val))
            scores = np.array(scores)
            return float(np.average(scores, weights=sizes)), scores
    """)),
    Wrong("ridge_penalizes_the_bias", "ridge_fit", _src("""
        def ridge_fit(X, y, lam):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            A = np.c_[X, np.ones(len(y))]
            theta = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ y)
            return theta[:-1], float(theta[-1])
    """)),
    Wrong("ridge_averages_the_squared_error", "ridge_fit", _src("""
        def ridge_fit(X, y, lam):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            x_mean, y_mean = X.mean(axis=0), y.mean()
            Xc, yc = X - x_mean, y - y_mean
            w = np.linalg.solve(Xc.T @ Xc / len(y) + lam * np.eye(X.shape[1]), Xc.T @ yc / len(y))
            return w, float(y_mean - x_mean @ w)
    """)),
    Wrong("ridge_forgets_to_centre", "ridge_fit", _src("""
        def ridge_fit(X, y, lam):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            w = np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
            return w, float(y.mean() - X.mean(axis=0) @ w)
    """)),
    Wrong("soft_threshold_is_hard_threshold", "soft_threshold", _src("""
        def soft_threshold(v, t):
            v = np.asarray(v, dtype=float)
            return np.where(np.abs(v) > t, v, 0.0)
    """)),
    Wrong("soft_threshold_loses_the_sign", "soft_threshold", _src("""
        def soft_threshold(v, t):
            v = np.asarray(v, dtype=float)
            return np.maximum(np.abs(v) - t, 0.0)
    """)),
    Wrong("ista_without_the_threshold", "lasso_ista",
          _ista("w = soft_threshold(w - step * grad, step * lam)", "w = w - step * grad")),
    Wrong("ista_subgradient_step", "lasso_ista",
          _ista("w = soft_threshold(w - step * grad, step * lam)", "w = w - step * (grad + lam * np.sign(w))")),
    Wrong("ista_threshold_not_scaled_by_step", "lasso_ista",
          _ista("w = soft_threshold(w - step * grad, step * lam)", "w = soft_threshold(w - step * grad, lam)")),
    Wrong("ista_summed_squared_error", "lasso_ista",
          _ista("grad = Xc.T @ (Xc @ w - yc) / n", "grad = Xc.T @ (Xc @ w - yc)")
          .replace("step = n / np.linalg.norm(Xc, 2) ** 2", "step = 1 / np.linalg.norm(Xc, 2) ** 2")),
    Wrong("ista_penalizes_the_bias", "lasso_ista", _src("""
        def lasso_ista(X, y, lam, n_iter=1000):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            n = len(y)
            A = np.c_[X, np.ones(n)]
            step = n / np.linalg.norm(A, 2) ** 2
            theta = np.zeros(A.shape[1])
            for _ in range(n_iter):
                theta = soft_threshold(theta - step * A.T @ (A @ theta - y) / n, step * lam)
            return theta[:-1], float(theta[-1])
    """)),
    Wrong("dropout_forgets_to_rescale", "dropout_forward", _src("""
        def dropout_forward(x, p_keep, seed, train=True):
            if not (0 < p_keep <= 1):
                raise ValueError("p_keep must be in (0, 1]")
            x = np.asarray(x, dtype=float)
            if not train:
                return x.copy(), np.ones_like(x)
            mask = (np.random.default_rng(seed).random(x.shape) < p_keep).astype(float)
            return x * mask, mask
    """)),
    Wrong("dropout_p_is_the_drop_probability", "dropout_forward", _src("""
        def dropout_forward(x, p_keep, seed, train=True):
            if not (0 < p_keep <= 1):
                raise ValueError("p_keep must be in (0, 1]")
            x = np.asarray(x, dtype=float)
            if not train or p_keep == 1:
                return x.copy(), np.ones_like(x)
            mask = (np.random.default_rng(seed).random(x.shape) >= p_keep) / (1 - p_keep)
            return x * mask, mask
    """)),
    Wrong("dropout_scales_at_test_time", "dropout_forward", _src("""
        def dropout_forward(x, p_keep, seed, train=True):
            if not (0 < p_keep <= 1):
                raise ValueError("p_keep must be in (0, 1]")
            x = np.asarray(x, dtype=float)
            if not train:
                return x * p_keep, np.full(x.shape, p_keep)
            mask = (np.random.default_rng(seed).random(x.shape) < p_keep) / p_keep
            return x * mask, mask
    """)),
    Wrong("dropout_uses_the_global_rng", "dropout_forward", _src("""
        def dropout_forward(x, p_keep, seed, train=True):
            if not (0 < p_keep <= 1):
                raise ValueError("p_keep must be in (0, 1]")
            x = np.asarray(x, dtype=float)
            if not train:
                return x.copy(), np.ones_like(x)
            mask = (np.random.random(x.shape) < p_keep) / p_keep
            return x * mask, mask
    """)),
    Wrong("dropout_backward_unscaled_mask", "dropout_backward", _src("""
        def dropout_backward(dout, mask):
            return np.asarray(dout, dtype=float) * (np.asarray(mask) != 0)
    """)),
    Wrong("dropout_backward_divides_by_mask", "dropout_backward", _src("""
        def dropout_backward(dout, mask):
            mask = np.asarray(mask, dtype=float)
            return np.where(mask != 0, np.asarray(dout, dtype=float) / np.where(mask != 0, mask, 1.0), 0.0)
    """)),
    Wrong("early_stopping_off_by_one", "early_stopping",
          _early("if waited >= patience:", "if waited > patience:")),
    Wrong("early_stopping_never_resets_the_counter", "early_stopping",
          _early("best, best_epoch, waited = loss, epoch, 0", "best, best_epoch = loss, epoch")),
    Wrong("early_stopping_ignores_min_delta", "early_stopping",
          _early("or loss < best - min_delta:", "or loss < best:")),
    Wrong("early_stopping_counts_ties_as_improvement", "early_stopping",
          _early("or loss < best - min_delta:", "or loss <= best - min_delta:")),
    Wrong("early_stopping_counts_an_infinite_first_epoch_as_no_improvement", "early_stopping", _src("""
        def early_stopping(val_losses, patience, min_delta=0.0):
            best, best_epoch, waited = np.inf, 0, 0
            losses = [float(v) for v in val_losses]
            for epoch, loss in enumerate(losses):
                if loss < best - min_delta:
                    best, best_epoch, waited = loss, epoch, 0
                else:
                    waited += 1
                    if waited >= patience:
                        return best_epoch, epoch
            return best_epoch, len(losses) - 1
    """)),
    Wrong("lasso_nan_on_constant_columns", "lasso_ista", _src("""
        def lasso_ista(X, y, lam, n_iter=1000):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            n = len(y)
            x_mean, y_mean = X.mean(axis=0), y.mean()
            Xc, yc = X - x_mean, y - y_mean
            step = n / np.linalg.norm(Xc, 2) ** 2
            w = np.zeros(X.shape[1])
            for _ in range(n_iter):
                grad = Xc.T @ (Xc @ w - yc) / n
                w = soft_threshold(w - step * grad, step * lam)
            return w, float(y_mean - x_mean @ w)
    """)),
]


CORRECT: list[Variant] = [
    Variant("kfold_larger_folds_last_and_setdiff", "kfold_indices", _src("""
        def kfold_indices(n, k, seed):
            if k < 2 or k > n:
                raise ValueError("k must be between 2 and n")
            order = np.random.default_rng(seed).permutation(n)
            small, extra = divmod(n, k)
            sizes = [small] * (k - extra) + [small + 1] * extra
            bounds = np.cumsum([0] + sizes)
            out = []
            for i in range(k):
                val = order[bounds[i]:bounds[i + 1]]
                out.append((np.setdiff1d(order, val), val))
            return out
    """)),
    Variant("kfold_fold_labels_by_position", "kfold_indices", _src("""
        def kfold_indices(n, k, seed):
            if not 2 <= k <= n:
                raise ValueError(f"k={k} needs 2 <= k <= n={n}")
            order = np.random.default_rng(seed).permutation(n)
            fold_of = np.arange(n) % k                       # position i of the shuffle goes to fold i % k
            return [(order[fold_of != i], order[fold_of == i]) for i in range(k)]
    """)),
    Variant("cv_list_of_scores_numpy_mean", "cross_val_score", _src("""
        def cross_val_score(fit, predict, X, y, k, seed):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
            scores = [np.mean((predict(fit(X[tr], y[tr]), X[va]) - y[va]) ** 2)
                      for tr, va in kfold_indices(len(y), k, seed)]
            return np.mean(scores), np.array(scores)
    """)),
    Variant("cv_preallocated_with_sum_of_squares", "cross_val_score", _src("""
        def cross_val_score(fit, predict, X, y, k, seed):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            fold_scores = np.zeros(k)
            for i, (train, val) in enumerate(kfold_indices(X.shape[0], k, seed)):
                residual = np.ravel(predict(fit(X[train], y[train]), X[val])) - y[val]
                fold_scores[i] = residual @ residual / len(val)
            return float(fold_scores.sum() / k), fold_scores
    """)),
    Variant("ridge_augmented_system", "ridge_fit", _src("""
        def ridge_fit(X, y, lam):
            X = np.asarray(X, dtype=float)
            A = np.hstack([X, np.ones((len(X), 1))])
            penalty = lam * np.eye(A.shape[1])
            penalty[-1, -1] = 0.0                         # the intercept is not penalized
            theta = np.linalg.solve(A.T @ A + penalty, A.T @ np.asarray(y, dtype=float))
            return theta[:-1], theta[-1]
    """)),
    Variant("ridge_lstsq_on_stacked_rows", "ridge_fit", _src("""
        def ridge_fit(X, y, lam):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            mx, my = X.mean(0), y.mean()
            d = X.shape[1]
            A = np.vstack([X - mx, np.sqrt(lam) * np.eye(d)])
            t = np.concatenate([y - my, np.zeros(d)])
            w = np.linalg.lstsq(A, t, rcond=None)[0]
            return w, my - mx @ w
    """)),
    Variant("soft_threshold_two_relus", "soft_threshold", _src("""
        def soft_threshold(v, t):
            v = np.asarray(v, dtype=float)
            return np.maximum(v - t, 0.0) - np.maximum(-v - t, 0.0)
    """)),
    Variant("soft_threshold_where", "soft_threshold", _src("""
        def soft_threshold(v, t):
            v = np.asarray(v, dtype=float)
            return np.where(np.abs(v) > t, v - t * np.sign(v), 0.0)
    """)),
    Variant("lasso_step_from_eigenvalues", "lasso_ista", _src("""
        def lasso_ista(X, y, lam, n_iter=1000):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            mx, my = X.mean(axis=0), y.mean()
            A, t = X - mx, y - my
            n = len(t)
            lipschitz = np.linalg.eigvalsh(A.T @ A / n).max()
            if lipschitz == 0:                            # every column constant: nothing to fit
                return np.zeros(X.shape[1]), float(my)
            w = np.zeros(X.shape[1])
            for _ in range(n_iter):
                z = w - (A.T @ (A @ w - t) / n) / lipschitz
                w = np.sign(z) * np.maximum(np.abs(z) - lam / lipschitz, 0)
            return w, float(my - mx @ w)
    """)),
    Variant("lasso_precomputed_gram", "lasso_ista", _src("""
        def lasso_ista(X, y, lam, n_iter=1000):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            n = len(y)
            Xc = X - X.mean(axis=0)
            yc = y - y.mean()
            G, c = Xc.T @ Xc / n, Xc.T @ yc / n
            L = np.linalg.norm(G, 2)
            w = np.zeros(X.shape[1])
            if L > 0:
                for _ in range(n_iter):
                    w = soft_threshold(w - (G @ w - c) / L, lam / L)
            return w, float(y.mean() - X.mean(axis=0) @ w)
    """)),
    Variant("dropout_binomial_mask", "dropout_forward", _src("""
        def dropout_forward(x, p_keep, seed, train=True):
            if p_keep <= 0 or p_keep > 1:
                raise ValueError("p_keep must be in (0, 1]")
            x = np.asarray(x, dtype=float)
            if train:
                mask = np.random.default_rng(seed).binomial(1, p_keep, size=x.shape) / p_keep
            else:
                mask = np.ones(x.shape)
            return x * mask, mask
    """)),
    Variant("dropout_uniform_above_drop_rate", "dropout_forward", _src("""
        def dropout_forward(x, p_keep, seed, train=True):
            if not 0 < p_keep <= 1:
                raise ValueError(f"p_keep={p_keep} outside (0, 1]")
            x = np.array(x, dtype=float)
            mask = np.ones_like(x)
            if train:
                keep = np.random.default_rng(seed).uniform(size=x.shape) >= 1 - p_keep
                mask = np.where(keep, 1 / p_keep, 0.0)
            return mask * x, mask
    """)),
    Variant("dropout_backward_multiply", "dropout_backward", _src("""
        def dropout_backward(dout, mask):
            return np.multiply(dout, mask, dtype=float)
    """)),
    Variant("dropout_backward_where_kept", "dropout_backward", _src("""
        def dropout_backward(dout, mask):
            mask = np.asarray(mask, dtype=float)
            return np.where(mask != 0, np.asarray(dout, dtype=float) * mask, 0.0)
    """)),
    Variant("early_stopping_first_epoch_is_the_best_so_far", "early_stopping", _src("""
        def early_stopping(val_losses, patience, min_delta=0.0):
            losses = list(map(float, val_losses))
            best, best_epoch, bad = losses[0], 0, 0
            for epoch in range(1, len(losses)):
                if losses[epoch] < best - min_delta:
                    best, best_epoch, bad = losses[epoch], epoch, 0
                    continue
                bad += 1
                if bad == patience:
                    return best_epoch, epoch
            return best_epoch, len(losses) - 1
    """)),
    Variant("early_stopping_epochs_since_best", "early_stopping", _src("""
        def early_stopping(val_losses, patience, min_delta=0.0):
            best_epoch = 0
            losses = np.asarray(val_losses, dtype=float)
            for epoch in range(1, len(losses)):
                if losses[epoch] < losses[best_epoch] - min_delta:
                    best_epoch = epoch
                elif epoch - best_epoch >= patience:
                    return best_epoch, epoch
            return best_epoch, len(losses) - 1
    """)),
    # Promised ints returned another way: a 1-element array and a whole float count as ints
    # (descentlab.expect.as_int).
    Variant("early_stopping_epochs_as_an_array_and_a_float", "early_stopping", _src("""
        def early_stopping(val_losses, patience, min_delta=0.0):
            losses = np.nan_to_num(np.asarray(val_losses, dtype=float), nan=np.inf)
            best, waited = np.array([0]), 0
            for epoch in range(1, len(losses)):
                if losses[epoch] < losses[best[0]] - min_delta:
                    best, waited = np.array([epoch]), 0
                else:
                    waited += 1
                    if waited == patience:
                        return best, np.float64(epoch)
            return best, np.float64(len(losses) - 1)
    """)),
]
