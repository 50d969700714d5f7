"""Exercise 02: plausible wrong answers (each must lose points on the right test cell) and
correct variants (each must score full marks), graded by tests/test_verdicts.py.

Every submission below is the reference solution with ONE function replaced by a mistake a
learner could make (a sign error, a missing 1/N, no divergence check, a forgotten bias...).
Each must lose points
on the test cell of the function it breaks, and only there or on the test of a later
function that calls the broken one.
"""
from __future__ import annotations

import textwrap

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src


def _gd(body: str) -> str:
    """A gradient_descent with the reference signature and ``body``."""
    return _GD_HEADER + textwrap.indent(_src(body), "    ")


_GD_HEADER = "def gradient_descent(grad, x0, learning_rate, max_steps=1000, tol=1e-6, max_norm=1e6):\n"
_LINEAR_USERS = ("sgd_linear_regression",)

WRONG = [
    Wrong("gd_climbs_the_gradient", "gradient_descent", _gd("""
        x = np.array(x0, dtype=float).reshape(-1)
        path = [x.copy()]
        for _ in range(max_steps):
            g = np.asarray(grad(x), dtype=float)
            if np.linalg.norm(g) < tol:
                return np.array(path), "converged"
            x = x + learning_rate * g
            path.append(x.copy())
            if not np.all(np.isfinite(x)) or np.linalg.norm(x) > max_norm:
                return np.array(path), "diverged"
        return np.array(path), "max_steps"
    """)),
    Wrong("gd_never_reports_divergence", "gradient_descent", _gd("""
        x = np.array(x0, dtype=float).reshape(-1)
        path = [x.copy()]
        for _ in range(max_steps):
            g = np.asarray(grad(x), dtype=float)
            if np.linalg.norm(g) < tol:
                return np.array(path), "converged"
            x = x - learning_rate * g
            path.append(x.copy())
        return np.array(path), "max_steps"
    """)),
    Wrong("gd_misses_nan", "gradient_descent", _gd("""
        x = np.array(x0, dtype=float).reshape(-1)
        path = [x.copy()]
        for _ in range(max_steps):
            g = np.asarray(grad(x), dtype=float)
            if np.linalg.norm(g) < tol:
                return np.array(path), "converged"
            x = x - learning_rate * g
            path.append(x.copy())
            if np.linalg.norm(x) > max_norm:
                return np.array(path), "diverged"
        return np.array(path), "max_steps"
    """)),
    Wrong("gd_changes_x0_in_place", "gradient_descent", _gd("""
        x = np.asarray(x0, dtype=float).reshape(-1)
        path = [x.copy()]
        for _ in range(max_steps):
            g = np.asarray(grad(x), dtype=float)
            if np.linalg.norm(g) < tol:
                return np.array(path), "converged"
            x -= learning_rate * g
            path.append(x.copy())
            if not np.all(np.isfinite(x)) or np.linalg.norm(x) > max_norm:
                return np.array(path), "diverged"
        return np.array(path), "max_steps"
    """)),
    Wrong("gd_tests_after_stepping", "gradient_descent", _gd("""
        x = np.array(x0, dtype=float).reshape(-1)
        path = [x.copy()]
        for _ in range(max_steps):
            x = x - learning_rate * np.asarray(grad(x), dtype=float)
            path.append(x.copy())
            if not np.all(np.isfinite(x)) or np.linalg.norm(x) > max_norm:
                return np.array(path), "diverged"
            if np.linalg.norm(grad(x)) < tol:
                return np.array(path), "converged"
        return np.array(path), "max_steps"
    """)),
    Wrong("momentum_adds_the_gradient", "sgd_momentum", _src("""
        def sgd_momentum(w, dw, config):
            v = config.get("velocity", np.zeros_like(np.asarray(w, dtype=float)))
            v = config["momentum"] * v + config["learning_rate"] * np.asarray(dw, dtype=float)
            return np.asarray(w, dtype=float) + v, {**config, "velocity": v}
    """)),
    Wrong("momentum_mutates_config", "sgd_momentum", _src("""
        def sgd_momentum(w, dw, config):
            v = config.get("velocity", np.zeros_like(np.asarray(w, dtype=float)))
            v = np.asarray(v, dtype=float)
            v *= config["momentum"]
            v -= config["learning_rate"] * np.asarray(dw, dtype=float)
            config["velocity"] = v
            return np.asarray(w, dtype=float) + v, config
    """)),
    Wrong("momentum_forgets_velocity", "sgd_momentum", _src("""
        def sgd_momentum(w, dw, config):
            v = config.get("velocity", np.zeros_like(np.asarray(w, dtype=float)))
            v = config["momentum"] * v - config["learning_rate"] * np.asarray(dw, dtype=float)
            return np.asarray(w, dtype=float) + v, dict(config)
    """)),
    Wrong("schedule_warmup_off_by_one", "warmup_cosine_lr", _src("""
        def warmup_cosine_lr(step, base_lr, total_steps, warmup_steps=0, min_lr=0.0):
            if step < warmup_steps:
                return base_lr * step / warmup_steps
            p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
            return float(min_lr + 0.5 * (base_lr - min_lr) * (1 + np.cos(np.pi * p)))
    """)),
    Wrong("schedule_rises_again_after_the_end", "warmup_cosine_lr", _src("""
        def warmup_cosine_lr(step, base_lr, total_steps, warmup_steps=0, min_lr=0.0):
            if step < warmup_steps:
                return base_lr * (step + 1) / warmup_steps
            p = (step - warmup_steps) / max(1, total_steps - warmup_steps)
            return float(min_lr + 0.5 * (base_lr - min_lr) * (1 + np.cos(np.pi * p)))
    """)),
    Wrong("schedule_ignores_warmup_in_decay", "warmup_cosine_lr", _src("""
        def warmup_cosine_lr(step, base_lr, total_steps, warmup_steps=0, min_lr=0.0):
            if step < warmup_steps:
                return base_lr * (step + 1) / warmup_steps
            p = min(1.0, step / total_steps)
            return float(min_lr + 0.5 * (base_lr - min_lr) * (1 + np.cos(np.pi * p)))
    """)),
    Wrong("linear_grad_missing_one_over_n", "linear_mse_grad", _src("""
        def linear_mse_grad(X, y, w, b):
            X, y, w = (np.asarray(a, dtype=float) for a in (X, y, w))
            r = X @ w + b - y
            return float(np.mean(r ** 2)), 2 * X.T @ r, float(2 * r.sum())
    """), _LINEAR_USERS),
    Wrong("linear_grad_sign_error", "linear_mse_grad", _src("""
        def linear_mse_grad(X, y, w, b):
            X, y, w = (np.asarray(a, dtype=float) for a in (X, y, w))
            r = y - X @ w - b
            return float(np.mean(r ** 2)), 2 * X.T @ r / len(y), float(2 * r.mean())
    """), _LINEAR_USERS),
    Wrong("linear_grad_wrong_axis", "linear_mse_grad", _src("""
        def linear_mse_grad(X, y, w, b):
            X, y, w = (np.asarray(a, dtype=float) for a in (X, y, w))
            r = X @ w + b - y
            return float(np.mean(r ** 2)), 2 * np.mean(X * r[:, None], axis=1), float(2 * r.mean())
    """), _LINEAR_USERS),
    Wrong("linear_grad_missing_factor_two", "linear_mse_grad", _src("""
        def linear_mse_grad(X, y, w, b):
            X, y, w = (np.asarray(a, dtype=float) for a in (X, y, w))
            r = X @ w + b - y
            return float(np.mean(r ** 2)), X.T @ r / len(y), float(r.mean())
    """), _LINEAR_USERS),
    Wrong("batches_not_shuffled", "minibatch_indices", _src("""
        def minibatch_indices(n_samples, batch_size, seed):
            if batch_size < 1:
                raise ValueError("batch_size must be positive")
            order = np.arange(n_samples)
            return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]
    """), _LINEAR_USERS),
    Wrong("batches_drop_the_last_partial_batch", "minibatch_indices", _src("""
        def minibatch_indices(n_samples, batch_size, seed):
            if batch_size < 1:
                raise ValueError("batch_size must be positive")
            order = np.random.default_rng(seed).permutation(n_samples)
            return [order[i:i + batch_size] for i in range(0, n_samples - batch_size + 1, batch_size)]
    """), _LINEAR_USERS),
    Wrong("batches_sampled_with_replacement", "minibatch_indices", _src("""
        def minibatch_indices(n_samples, batch_size, seed):
            if batch_size < 1:
                raise ValueError("batch_size must be positive")
            order = np.random.default_rng(seed).integers(0, n_samples, size=n_samples)
            return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]
    """), _LINEAR_USERS),
    Wrong("batches_as_a_generator", "minibatch_indices", _src("""
        def minibatch_indices(n_samples, batch_size, seed):
            order = np.random.default_rng(seed).permutation(n_samples)
            for i in range(0, n_samples, batch_size):
                yield order[i:i + batch_size]
    """)),
    Wrong("sgd_uses_all_data_every_step", "sgd_linear_regression", _src("""
        def sgd_linear_regression(X, y, learning_rate, batch_size, epochs, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
            w, b = np.zeros(X.shape[1]), 0.0
            losses = [linear_mse_grad(X, y, w, b)[0]]
            for e in range(epochs):
                loss, dw, db = linear_mse_grad(X, y, w, b)
                w, b = w - learning_rate * dw, b - learning_rate * db
                losses.append(linear_mse_grad(X, y, w, b)[0])
            return w, b, np.array(losses)
    """)),
    Wrong("sgd_forgets_the_bias", "sgd_linear_regression", _src("""
        def sgd_linear_regression(X, y, learning_rate, batch_size, epochs, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
            w, b = np.zeros(X.shape[1]), 0.0
            losses = [linear_mse_grad(X, y, w, b)[0]]
            for e in range(epochs):
                for idx in minibatch_indices(len(y), batch_size, seed + e):
                    _, dw, _ = linear_mse_grad(X[idx], y[idx], w, b)
                    w = w - learning_rate * dw
                losses.append(linear_mse_grad(X, y, w, b)[0])
            return w, b, np.array(losses)
    """)),
    Wrong("sgd_loss_history_misses_the_start", "sgd_linear_regression", _src("""
        def sgd_linear_regression(X, y, learning_rate, batch_size, epochs, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
            w, b = np.zeros(X.shape[1]), 0.0
            losses = []
            for e in range(epochs):
                for idx in minibatch_indices(len(y), batch_size, seed + e):
                    _, dw, db = linear_mse_grad(X[idx], y[idx], w, b)
                    w, b = w - learning_rate * dw, b - learning_rate * db
                losses.append(linear_mse_grad(X, y, w, b)[0])
            return w, b, np.array(losses)
    """)),
]


CORRECT: list[Variant] = [
    Variant("gd_while_loop_with_python_lists", "gradient_descent", _src("""
        import math

        def gradient_descent(grad, x0, learning_rate, max_steps=1000, tol=1e-6, max_norm=1e6):
            x = np.asarray(x0, dtype=float).ravel().copy()
            path = [x.tolist()]
            steps = 0
            while steps < max_steps:
                g = np.asarray(grad(x.copy()), dtype=float).ravel()
                if math.sqrt(float(np.sum(g * g))) < tol:
                    return np.array(path), "converged"
                x = x - learning_rate * g
                path.append(x.tolist())
                steps += 1
                norm = math.sqrt(float(np.sum(x * x)))
                if math.isnan(norm) or math.isinf(norm) or norm > max_norm:
                    return np.array(path), "diverged"
            return np.array(path), "max_steps"
    """)),
    Variant("gd_stacks_the_path_at_the_end", "gradient_descent", _src("""
        def gradient_descent(grad, x0, learning_rate, max_steps=1000, tol=1e-6, max_norm=1e6):
            points = [np.array(x0, dtype=float).reshape(-1)]
            status = "max_steps"
            for _ in range(max_steps):
                g = np.asarray(grad(points[-1].copy()), dtype=float).reshape(-1)
                if np.linalg.norm(g) < tol:
                    status = "converged"
                    break
                points.append(points[-1] - learning_rate * g)
                if not np.isfinite(points[-1]).all() or np.linalg.norm(points[-1]) > max_norm:
                    status = "diverged"
                    break
            return np.vstack(points), status
    """)),
    Variant("momentum_scalar_zero_velocity", "sgd_momentum", _src("""
        def sgd_momentum(w, dw, config):
            new = {**config}
            v = config.get("velocity")
            v = 0.0 if v is None else np.asarray(v, dtype=float)
            v = config["momentum"] * v - config["learning_rate"] * np.asarray(dw, dtype=float)
            new["velocity"] = v
            return np.asarray(w, dtype=float) + v, new
    """)),
    Variant("momentum_zeros_like_and_copy", "sgd_momentum", _src("""
        import copy

        def sgd_momentum(w, dw, config):
            w = np.array(w, dtype=float)
            new = copy.deepcopy(config)
            velocity = new.get("velocity", np.zeros_like(w))
            velocity = velocity * new["momentum"]
            velocity -= new["learning_rate"] * np.asarray(dw, dtype=float)
            w += velocity
            new["velocity"] = velocity
            return w, new
    """)),
    Variant("schedule_with_math_cos_and_early_returns", "warmup_cosine_lr", _src("""
        import math

        def warmup_cosine_lr(step, base_lr, total_steps, warmup_steps=0, min_lr=0.0):
            if step < warmup_steps:
                return base_lr * (step + 1.0) / warmup_steps
            if step >= total_steps:
                return float(min_lr)
            p = (step - warmup_steps) / (total_steps - warmup_steps)
            return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * p)) / 2
    """)),
    Variant("schedule_numpy_clip_returns_numpy_scalar", "warmup_cosine_lr", _src("""
        def warmup_cosine_lr(step, base_lr, total_steps, warmup_steps=0, min_lr=0.0):
            if warmup_steps > 0 and step < warmup_steps:
                return np.float64(base_lr) * (step + 1) / warmup_steps
            p = np.clip((step - warmup_steps) / max(total_steps - warmup_steps, 1), 0.0, 1.0)
            return min_lr + 0.5 * (base_lr - min_lr) * (1.0 + np.cos(np.pi * p))
    """)),
    Variant("linear_grad_loop_over_samples", "linear_mse_grad", _src("""
        def linear_mse_grad(X, y, w, b):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            w = np.asarray(w, dtype=float)
            n = len(y)
            loss, dw, db = 0.0, np.zeros_like(w), 0.0
            for xi, yi in zip(X, y):
                r = float(xi @ w) + b - yi
                loss += r * r / n
                dw += 2 * r * xi / n
                db += 2 * r / n
            return loss, dw, db
    """)),
    Variant("linear_grad_mean_of_outer_terms", "linear_mse_grad", _src("""
        def linear_mse_grad(X, y, w, b):
            X = np.asarray(X, dtype=float)
            r = np.dot(X, np.asarray(w, dtype=float)) + b - np.asarray(y, dtype=float)
            return np.mean(r ** 2), np.mean(2 * r[:, None] * X, axis=0), np.mean(2 * r)
    """)),
    Variant("batches_shuffle_in_place_and_slice", "minibatch_indices", _src("""
        import math

        def minibatch_indices(n_samples, batch_size, seed):
            if batch_size <= 0:
                raise ValueError("batch_size must be at least 1")
            order = np.arange(n_samples)
            np.random.default_rng(seed).shuffle(order)
            return [order[i * batch_size:(i + 1) * batch_size]
                    for i in range(math.ceil(n_samples / batch_size))]
    """)),
    Variant("batches_choice_and_np_split", "minibatch_indices", _src("""
        def minibatch_indices(n_samples, batch_size, seed):
            if not batch_size >= 1:
                raise ValueError(f"batch_size={batch_size}: need at least 1")
            order = np.random.default_rng(seed).choice(n_samples, size=n_samples, replace=False)
            return [part for part in np.split(order, range(batch_size, n_samples, batch_size)) if len(part)]
    """)),
    Variant("sgd_inline_gradients", "sgd_linear_regression", _src("""
        def sgd_linear_regression(X, y, learning_rate, batch_size, epochs, seed=0):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            w = np.zeros(X.shape[1])
            b = 0.0
            losses = [float(np.mean((X @ w + b - y) ** 2))]
            for epoch in range(epochs):
                for idx in minibatch_indices(len(y), batch_size, seed + epoch):
                    r = X[idx] @ w + b - y[idx]
                    w = w - learning_rate * 2 * X[idx].T @ r / len(idx)
                    b = b - learning_rate * 2 * r.mean()
                losses.append(float(np.mean((X @ w + b - y) ** 2)))
            return w, b, np.asarray(losses)
    """)),
    Variant("sgd_parameters_as_one_vector", "sgd_linear_regression", _src("""
        def sgd_linear_regression(X, y, learning_rate, batch_size, epochs, seed=0):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=float)
            theta = np.zeros(X.shape[1] + 1)          # weights, then the bias
            losses = np.empty(epochs + 1)
            losses[0] = linear_mse_grad(X, y, theta[:-1], theta[-1])[0]
            for epoch in range(epochs):
                for idx in minibatch_indices(len(y), batch_size, seed + epoch):
                    _, dw, db = linear_mse_grad(X[idx], y[idx], theta[:-1], theta[-1])
                    theta -= learning_rate * np.append(dw, db)
                losses[epoch + 1] = linear_mse_grad(X, y, theta[:-1], theta[-1])[0]
            return theta[:-1].copy(), theta[-1], losses
    """)),
]
