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
    Variant("mse_gradient_loop_over_rows", "mse_gradient", _src("""
        def mse_gradient(w, X, y):
            w = np.asarray(w, dtype=float)
            X = np.asarray(X, dtype=float)
            total = np.zeros_like(w)
            for row, target in zip(X, np.asarray(y, dtype=float)):
                total += 2 * (row @ w - target) * row
            return total / len(X)
    """)),
    Variant("mse_gradient_mean_over_axis", "mse_gradient", _src("""
        def mse_gradient(w, X, y):
            X = np.asarray(X, dtype=float)
            r = np.dot(X, np.asarray(w, dtype=float)) - np.asarray(y, dtype=float)
            return np.mean(2 * X * r[:, None], axis=0)
    """)),
    Variant("average_gradients_np_average", "average_gradients", _src("""
        def average_gradients(grads, counts):
            return np.average(np.asarray(grads, dtype=float), axis=0, weights=np.asarray(counts, dtype=float))
    """)),
    Variant("average_gradients_loop", "average_gradients", _src("""
        def average_gradients(grads, counts):
            total, rows = None, 0
            for g, n in zip(grads, counts):
                term = n * np.asarray(g, dtype=float)
                total = term if total is None else total + term
                rows += n
            return total / rows
    """)),
    Variant("sync_step_on_all_rows_at_once", "sync_step", _src("""
        def sync_step(w, X_shards, y_shards, lr):
            # The row-weighted average of the shard gradients is the gradient on all rows.
            X = np.concatenate([np.asarray(a, dtype=float) for a in X_shards])
            y = np.concatenate([np.asarray(a, dtype=float) for a in y_shards])
            w = np.asarray(w, dtype=float)
            return w - lr * 2 * X.T @ (X @ w - y) / len(y)
    """)),
    Variant("sync_step_through_the_helpers", "sync_step", _src("""
        def sync_step(w, X_shards, y_shards, lr):
            grads = [mse_gradient(w, X_k, y_k) for X_k, y_k in zip(X_shards, y_shards)]
            counts = [len(y_k) for y_k in y_shards]
            return np.asarray(w, dtype=float) - lr * average_gradients(grads, counts)
    """)),
    Variant("async_update_numpy_types_back", "async_server_update", _src("""
        def async_server_update(w, version, grad, read_version, lr, max_staleness=None, staleness_aware=False):
            if not 0 <= read_version <= version:
                raise ValueError("read_version must be between 0 and version")
            staleness = version - read_version
            accepted = max_staleness is None or staleness <= max_staleness
            if not accepted:
                return np.array(w, dtype=float), version, staleness, np.False_
            rate = lr / (staleness + 1) if staleness_aware else lr
            return np.subtract(w, rate * np.asarray(grad)), version + 1, staleness, np.True_
    """)),
    Variant("async_update_copy_then_subtract_in_place", "async_server_update", _src("""
        def async_server_update(w, version, grad, read_version, lr, max_staleness=None, staleness_aware=False):
            if read_version > version:
                raise ValueError(f"read_version {read_version} is in the future (version {version})")
            if read_version < 0:
                raise ValueError(f"negative read_version {read_version}")
            new_w = np.array(w, dtype=float, copy=True)
            staleness = version - read_version
            if max_staleness is not None and not staleness <= max_staleness:
                return new_w, version, staleness, False
            new_w -= (lr if not staleness_aware else lr / (1 + staleness)) * np.asarray(grad, dtype=float)
            return new_w, version + 1, staleness, True
    """)),
    # Promised ints returned another way (descentlab.expect.as_int): the version as a 1-element
    # float array, the staleness as a NumPy float, both whole.
    Variant("async_update_versions_in_a_float_array", "async_server_update", _src("""
        def async_server_update(w, version, grad, read_version, lr, max_staleness=None, staleness_aware=False):
            versions = np.array([version, read_version], dtype=float)
            if versions[1] < 0 or versions[1] > versions[0]:
                raise ValueError(f"read_version {read_version} is not between 0 and {version}")
            staleness = versions[0] - versions[1]
            if max_staleness is not None and staleness > max_staleness:
                return np.array(w, dtype=float), versions[:1], staleness, False
            rate = lr / (1 + staleness) if staleness_aware else lr
            return np.asarray(w, dtype=float) - rate * np.asarray(grad, dtype=float), versions[:1] + 1, staleness, True
    """)),
    Variant("stale_sgd_each_worker_keeps_its_copy", "simulate_stale_sgd", _src("""
        def simulate_stale_sgd(X_shards, y_shards, w0, lr, n_steps, tau, seed):
            K = len(X_shards)
            phase = np.random.default_rng(seed).integers(0, tau + 1, size=K)
            w = np.array(w0, dtype=float)
            seen = [w.copy() for _ in range(K)]
            read_at = [0] * K
            history, stale = [w.copy()], np.zeros((n_steps, K), dtype=int)
            n_total = sum(len(y_k) for y_k in y_shards)
            for t in range(n_steps):
                step = np.zeros_like(w)
                for k in range(K):
                    if (t + phase[k]) % (tau + 1) == 0:
                        seen[k], read_at[k] = w.copy(), t
                    stale[t, k] = t - read_at[k]
                    step += len(y_shards[k]) * mse_gradient(seen[k], X_shards[k], y_shards[k])
                w = w - lr * step / n_total
                history.append(w.copy())
            return np.vstack(history), stale
    """)),
    Variant("stale_sgd_read_times_first", "simulate_stale_sgd", _src("""
        def simulate_stale_sgd(X_shards, y_shards, w0, lr, n_steps, tau, seed):
            K = len(X_shards)
            phase = np.random.default_rng(seed).integers(0, tau + 1, size=K)
            reads = np.zeros((n_steps, K), dtype=int)        # the step each worker last read
            for t in range(n_steps):
                for k in range(K):
                    reads[t, k] = t if (t + phase[k]) % (tau + 1) == 0 else (reads[t - 1, k] if t else 0)
            Xs = [np.asarray(a, dtype=float) for a in X_shards]
            ys = [np.asarray(a, dtype=float) for a in y_shards]
            counts = np.array([len(a) for a in ys], dtype=float)
            history = np.zeros((n_steps + 1, np.size(w0)))
            history[0] = np.asarray(w0, dtype=float)
            for t in range(n_steps):
                grads = [2 / counts[k] * Xs[k].T @ (Xs[k] @ history[reads[t, k]] - ys[k]) for k in range(K)]
                history[t + 1] = history[t] - lr * np.average(grads, axis=0, weights=counts)
            return history, np.arange(n_steps)[:, None] - reads
    """)),
    Variant("stale_sgd_staleness_as_whole_floats", "simulate_stale_sgd", _src("""
        def simulate_stale_sgd(X_shards, y_shards, w0, lr, n_steps, tau, seed):
            K = len(X_shards)
            Xs = [np.asarray(a, dtype=float) for a in X_shards]
            ys = [np.asarray(b, dtype=float) for b in y_shards]
            n_rows = np.array([len(b) for b in ys], dtype=float)
            phase = np.random.default_rng(seed).integers(0, tau + 1, size=K)
            history = [np.array(w0, dtype=float)]
            last = np.zeros(K)                      # float read times, so a float staleness array
            staleness = np.zeros((n_steps, K))
            for t in range(n_steps):
                total = np.zeros_like(history[0])
                for k in range(K):
                    if (t + phase[k]) % (tau + 1) == 0:
                        last[k] = t
                    staleness[t, k] = t - last[k]
                    v = history[int(last[k])]
                    total += 2.0 * Xs[k].T @ (Xs[k] @ v - ys[k])
                history.append(history[t] - lr * total / n_rows.sum())
            return np.array(history), staleness
    """)),
    Variant("speedup_model_loops", "speedup_model", _src("""
        def speedup_model(worker_times):
            rows = [list(map(float, row)) for row in np.asarray(worker_times)]
            serial = sum(sum(row) for row in rows)
            sync_wall = sum(max(row) for row in rows)
            async_wall = max(sum(row[k] for row in rows) for k in range(len(rows[0])))
            return serial / sync_wall, serial / async_wall
    """)),
    Variant("speedup_model_numpy_scalars", "speedup_model", _src("""
        def speedup_model(worker_times):
            t = np.asarray(worker_times, dtype=float)
            return np.sum(t) / np.sum(np.max(t, axis=1)), np.sum(t) / np.max(np.sum(t, axis=0))
    """)),
]
