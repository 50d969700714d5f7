"""Exercise 04: plausible wrong answers (each must lose points on the right test cell) and
correct variants (each must score full marks), graded by tests/test_verdicts.py.

Every submission below is the reference solution with ONE function replaced by a mistake a
learner could make (averaging by the wrong count, parameters read at the wrong time, a
staleness bound off by one, a synchronous round that waits for the average worker...). Each must lose points on the
test cell of the function it breaks, and nowhere else (the reference solutions do not call
each other, so a broken function cannot drag down another function's test).
"""
from __future__ import annotations

import textwrap

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src


_UPDATE_HEADER = ("def async_server_update(w, version, grad, read_version, lr, max_staleness=None, "
                  "staleness_aware=False):\n")


def _update(body: str) -> str:
    return _UPDATE_HEADER + textwrap.indent(_src(body), "    ")


_SIM_HEADER = "def simulate_stale_sgd(X_shards, y_shards, w0, lr, n_steps, tau, seed):\n"
_SIM_SETUP = """
    K = len(X_shards)
    X_shards = [np.asarray(a, dtype=float) for a in X_shards]
    y_shards = [np.asarray(b, dtype=float) for b in y_shards]
    counts = np.array([len(b) for b in y_shards], dtype=float)
"""


def _sim(body: str) -> str:
    return _SIM_HEADER + textwrap.indent(_src(_SIM_SETUP) + "\n" + _src(body), "    ")


WRONG = [
    # mse_gradient
    Wrong("gradient_divides_by_features", "mse_gradient", _src("""
        def mse_gradient(w, X, y):
            X, y, w = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
            return 2.0 / X.shape[1] * X.T @ (X @ w - y)
    """)),
    Wrong("gradient_missing_factor_two", "mse_gradient", _src("""
        def mse_gradient(w, X, y):
            X, y, w = np.asarray(X, dtype=float), np.asarray(y, dtype=float), np.asarray(w, dtype=float)
            return X.T @ (X @ w - y) / len(y)
    """)),
    # average_gradients
    Wrong("average_by_worker_count", "average_gradients", _src("""
        def average_gradients(grads, counts):
            return np.mean(np.asarray(grads, dtype=float), axis=0)
    """)),
    Wrong("weighted_sum_divided_by_workers", "average_gradients", _src("""
        def average_gradients(grads, counts):
            grads, counts = np.asarray(grads, dtype=float), np.asarray(counts, dtype=float)
            return (counts[:, None] * grads).sum(axis=0) / len(counts)
    """)),
    # sync_step
    Wrong("sync_workers_step_one_after_another", "sync_step", _src("""
        def sync_step(w, X_shards, y_shards, lr):
            w = np.array(w, dtype=float)
            K = len(X_shards)
            for X_k, y_k in zip(X_shards, y_shards):
                w = w - lr / K * 2.0 / len(y_k) * X_k.T @ (X_k @ w - y_k)
            return w
    """)),
    Wrong("sync_unweighted_mean", "sync_step", _src("""
        def sync_step(w, X_shards, y_shards, lr):
            w = np.asarray(w, dtype=float)
            grads = [2.0 / len(y_k) * X_k.T @ (X_k @ w - y_k) for X_k, y_k in zip(X_shards, y_shards)]
            return w - lr * np.mean(grads, axis=0)
    """)),
    Wrong("sync_changes_w_in_place", "sync_step", _src("""
        def sync_step(w, X_shards, y_shards, lr):
            X = np.vstack(X_shards)
            y = np.concatenate(y_shards)
            w -= lr * 2.0 / len(y) * X.T @ (X @ w - y)
            return w
    """)),
    # async_server_update
    Wrong("bound_drops_staleness_equal_to_it", "async_server_update", _update("""
        if read_version < 0 or read_version > version:
            raise ValueError("bad read_version")
        staleness = version - read_version
        if max_staleness is not None and staleness >= max_staleness:
            return np.array(w, dtype=float), version, staleness, False
        step = lr / (1 + staleness) if staleness_aware else lr
        return np.asarray(w, dtype=float) - step * np.asarray(grad, dtype=float), version + 1, staleness, True
    """)),
    Wrong("dropped_gradient_still_counts_as_update", "async_server_update", _update("""
        if read_version < 0 or read_version > version:
            raise ValueError("bad read_version")
        staleness = version - read_version
        if max_staleness is not None and staleness > max_staleness:
            return np.array(w, dtype=float), version + 1, staleness, False
        step = lr / (1 + staleness) if staleness_aware else lr
        return np.asarray(w, dtype=float) - step * np.asarray(grad, dtype=float), version + 1, staleness, True
    """)),
    Wrong("staleness_aware_divides_by_staleness", "async_server_update", _update("""
        if read_version < 0 or read_version > version:
            raise ValueError("bad read_version")
        staleness = version - read_version
        if max_staleness is not None and staleness > max_staleness:
            return np.array(w, dtype=float), version, staleness, False
        step = lr / max(1, staleness) if staleness_aware else lr
        return np.asarray(w, dtype=float) - step * np.asarray(grad, dtype=float), version + 1, staleness, True
    """)),
    Wrong("server_accepts_future_versions", "async_server_update", _update("""
        staleness = version - read_version
        if max_staleness is not None and staleness > max_staleness:
            return np.array(w, dtype=float), version, staleness, False
        step = lr / (1 + staleness) if staleness_aware else lr
        return np.asarray(w, dtype=float) - step * np.asarray(grad, dtype=float), version + 1, staleness, True
    """)),
    Wrong("server_updates_in_place", "async_server_update", _update("""
        if read_version < 0 or read_version > version:
            raise ValueError("bad read_version")
        staleness = version - read_version
        if max_staleness is not None and staleness > max_staleness:
            return w, version, staleness, False
        step = lr / (1 + staleness) if staleness_aware else lr
        w -= step * np.asarray(grad, dtype=float)
        return w, version + 1, staleness, True
    """)),
    # simulate_stale_sgd
    Wrong("workers_always_read_current_parameters", "simulate_stale_sgd", _sim("""
        phase = np.random.default_rng(seed).integers(0, tau + 1, size=K)
        history, last = [np.array(w0, dtype=float)], np.zeros(K, dtype=int)
        staleness = np.zeros((n_steps, K), dtype=int)
        for t in range(n_steps):
            total = np.zeros_like(history[0])
            for k in range(K):
                if (t + phase[k]) % (tau + 1) == 0:
                    last[k] = t
                staleness[t, k] = t - last[k]
                w_now = history[t]
                total += counts[k] * 2.0 / counts[k] * X_shards[k].T @ (X_shards[k] @ w_now - y_shards[k])
            history.append(history[t] - lr * total / counts.sum())
        return np.array(history), staleness
    """)),
    Wrong("workers_read_after_computing", "simulate_stale_sgd", _sim("""
        phase = np.random.default_rng(seed).integers(0, tau + 1, size=K)
        history, last = [np.array(w0, dtype=float)], np.zeros(K, dtype=int)
        staleness = np.zeros((n_steps, K), dtype=int)
        for t in range(n_steps):
            total = np.zeros_like(history[0])
            for k in range(K):
                staleness[t, k] = t - last[k]
                w_seen = history[last[k]]
                total += 2.0 * X_shards[k].T @ (X_shards[k] @ w_seen - y_shards[k])
                if (t + phase[k]) % (tau + 1) == 0:
                    last[k] = t
            history.append(history[t] - lr * total / counts.sum())
        return np.array(history), staleness
    """)),
    Wrong("every_worker_exactly_tau_behind", "simulate_stale_sgd", _sim("""
        history = [np.array(w0, dtype=float)]
        staleness = np.zeros((n_steps, K), dtype=int)
        for t in range(n_steps):
            seen = max(0, t - tau)
            staleness[t, :] = t - seen
            total = np.zeros_like(history[0])
            for k in range(K):
                total += 2.0 * X_shards[k].T @ (X_shards[k] @ history[seen] - y_shards[k])
            history.append(history[t] - lr * total / counts.sum())
        return np.array(history), staleness
    """)),
    Wrong("phases_redrawn_every_step", "simulate_stale_sgd", _sim("""
        rng = np.random.default_rng(seed)
        history, last = [np.array(w0, dtype=float)], np.zeros(K, dtype=int)
        staleness = np.zeros((n_steps, K), dtype=int)
        for t in range(n_steps):
            phase = rng.integers(0, tau + 1, size=K)
            total = np.zeros_like(history[0])
            for k in range(K):
                if (t + phase[k]) % (tau + 1) == 0:
                    last[k] = t
                staleness[t, k] = t - last[k]
                total += 2.0 * X_shards[k].T @ (X_shards[k] @ history[last[k]] - y_shards[k])
            history.append(history[t] - lr * total / counts.sum())
        return np.array(history), staleness
    """)),
    Wrong("server_averages_over_workers", "simulate_stale_sgd", _sim("""
        phase = np.random.default_rng(seed).integers(0, tau + 1, size=K)
        history, last = [np.array(w0, dtype=float)], np.zeros(K, dtype=int)
        staleness = np.zeros((n_steps, K), dtype=int)
        for t in range(n_steps):
            grads = []
            for k in range(K):
                if (t + phase[k]) % (tau + 1) == 0:
                    last[k] = t
                staleness[t, k] = t - last[k]
                v = history[last[k]]
                grads.append(2.0 / counts[k] * X_shards[k].T @ (X_shards[k] @ v - y_shards[k]))
            history.append(history[t] - lr * np.mean(grads, axis=0))
        return np.array(history), staleness
    """)),
    # speedup_model
    Wrong("sync_round_waits_for_the_average_worker", "speedup_model", _src("""
        def speedup_model(worker_times):
            t = np.asarray(worker_times, dtype=float)
            return float(t.sum() / t.mean(axis=1).sum()), float(t.sum() / t.sum(axis=0).max())
    """)),
    Wrong("async_assumes_perfect_balance", "speedup_model", _src("""
        def speedup_model(worker_times):
            t = np.asarray(worker_times, dtype=float)
            return float(t.sum() / t.max(axis=1).sum()), float(t.sum() / (t.sum() / t.shape[1]))
    """)),
    Wrong("speedup_upside_down", "speedup_model", _src("""
        def speedup_model(worker_times):
            t = np.asarray(worker_times, dtype=float)
            return float(t.max(axis=1).sum() / t.sum()), float(t.sum(axis=0).max() / t.sum())
    """)),
]


CORRECT: list[Variant] = [
]
