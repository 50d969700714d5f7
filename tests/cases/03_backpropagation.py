"""Exercise 03: plausible wrong answers (each must lose points on the right test cell) and
correct variants (each must score full marks), graded by tests/test_verdicts.py.

Every submission below is the reference solution with ONE function replaced by a mistake a
learner could make (a missing transpose, a sum over the wrong axis, a ReLU mask taken from
dout instead of the cached input, a one-sided difference...). All of them are graded
together in one real `nbgrader autograde` run; each must lose points on the test cell of
the function it breaks, and only there or on the tests of later functions that call it.
"""
from __future__ import annotations

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src

# Which graded functions call which (in the reference solution, as the exercise suggests).
CALLERS = {
    "affine_forward": ("two_layer_loss", "train_two_layer", "affine_backward"),
    "affine_backward": ("two_layer_loss", "train_two_layer"),
    "relu_forward": ("two_layer_loss", "train_two_layer", "relu_backward"),
    "relu_backward": ("two_layer_loss", "train_two_layer"),
    "softmax_cross_entropy": ("two_layer_loss", "train_two_layer"),
    "two_layer_loss": ("train_two_layer",),
}


WRONG = [
    Wrong("checker_one_sided_difference", "centred_gradient", _src("""
        def centred_gradient(f, x, h=1e-5):
            x = np.array(x, dtype=float)
            base = f(x.copy())
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                grad[i] = (f(x.copy()) - base) / h
                x[i] = old
            return grad
    """)),
    Wrong("checker_rounds_integer_input", "centred_gradient", _src("""
        def centred_gradient(f, x, h=1e-5):
            x = np.array(x)
            grad = np.zeros(x.shape)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + h
                up = f(x.copy())
                x[i] = old - h
                down = f(x.copy())
                x[i] = old
                grad[i] = (up - down) / (2 * h)
            return grad
    """)),
    Wrong("checker_does_not_restore_x", "centred_gradient", _src("""
        def centred_gradient(f, x, h=1e-5):
            x = np.asarray(x, dtype=float)
            grad = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                x[i] += h
                up = f(x.copy())
                x[i] -= 2 * h
                down = f(x.copy())
                grad[i] = (up - down) / (2 * h)
            return grad
    """)),
    Wrong("affine_forward_caches_the_output", "affine_forward", _src("""
        def affine_forward(x, w, b):
            x, w, b = (np.asarray(a, dtype=float) for a in (x, w, b))
            out = x @ w + b
            return out, (out, w, b)
    """)),
    Wrong("affine_backward_dx_without_transpose", "affine_backward", _src("""
        def affine_backward(dout, cache):
            x, w, b = cache
            return dout @ w, x.T @ dout, dout.sum(axis=0)
    """)),
    Wrong("affine_backward_dw_transposed", "affine_backward", _src("""
        def affine_backward(dout, cache):
            x, w, b = cache
            return dout @ w.T, dout.T @ x, dout.sum(axis=0)
    """)),
    Wrong("affine_backward_bias_wrong_axis", "affine_backward", _src("""
        def affine_backward(dout, cache):
            x, w, b = cache
            return dout @ w.T, x.T @ dout, dout.sum(axis=1)
    """)),
    Wrong("affine_backward_bias_mean_not_sum", "affine_backward", _src("""
        def affine_backward(dout, cache):
            x, w, b = cache
            return dout @ w.T, x.T @ dout, dout.mean(axis=0)
    """)),
    Wrong("relu_forward_caches_nothing_useful", "relu_forward", _src("""
        def relu_forward(x):
            out = np.maximum(np.asarray(x, dtype=float), 0)
            return out, ()
    """)),
    Wrong("relu_backward_masks_with_dout", "relu_backward", _src("""
        def relu_backward(dout, cache):
            dout = np.asarray(dout, dtype=float)
            return dout * (dout > 0)
    """)),
    Wrong("relu_backward_changes_dout_in_place", "relu_backward", _src("""
        def relu_backward(dout, cache):
            (x,) = cache
            dout[x <= 0] = 0
            return dout
    """)),
    Wrong("relu_backward_lets_zero_through", "relu_backward", _src("""
        def relu_backward(dout, cache):
            (x,) = cache
            return np.asarray(dout, dtype=float) * (x >= 0)
    """)),
    Wrong("softmax_missing_one_over_n", "softmax_cross_entropy", _src("""
        def softmax_cross_entropy(scores, y):
            s = np.asarray(scores, dtype=float)
            n = s.shape[0]
            z = s - s.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            d = np.exp(logp)
            d[np.arange(n), y] -= 1
            return float(-logp[np.arange(n), y].mean()), d
    """)),
    Wrong("softmax_normalises_the_wrong_axis", "softmax_cross_entropy", _src("""
        def softmax_cross_entropy(scores, y):
            s = np.asarray(scores, dtype=float)
            n = s.shape[0]
            z = s - s.max(axis=0, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=0, keepdims=True))
            d = np.exp(logp)
            d[np.arange(n), y] -= 1
            return float(-logp[np.arange(n), y].mean()), d / n
    """)),
    Wrong("softmax_overflows_on_large_scores", "softmax_cross_entropy", _src("""
        def softmax_cross_entropy(scores, y):
            s = np.asarray(scores, dtype=float)
            n = s.shape[0]
            p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n), y]).mean()
            d = p.copy()
            d[np.arange(n), y] -= 1
            return float(loss), d / n
    """)),
    Wrong("softmax_gradient_sign_error", "softmax_cross_entropy", _src("""
        def softmax_cross_entropy(scores, y):
            s = np.asarray(scores, dtype=float)
            n = s.shape[0]
            z = s - s.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            onehot = np.zeros_like(s)
            onehot[np.arange(n), y] = 1
            return float(-logp[np.arange(n), y].mean()), (onehot - np.exp(logp)) / n
    """)),
    Wrong("network_skips_relu_backward", "two_layer_loss", _src("""
        def two_layer_loss(params, X, y):
            a, c1 = affine_forward(X, params["W1"], params["b1"])
            h, c2 = relu_forward(a)
            s, c3 = affine_forward(h, params["W2"], params["b2"])
            loss, ds = softmax_cross_entropy(s, y)
            dh, dW2, db2 = affine_backward(ds, c3)
            _, dW1, db1 = affine_backward(dh, c1)
            return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    """)),
    Wrong("network_reuses_the_wrong_cache", "two_layer_loss", _src("""
        def two_layer_loss(params, X, y):
            a, c1 = affine_forward(X, params["W1"], params["b1"])
            h, c2 = relu_forward(a)
            s, c3 = affine_forward(h, params["W2"], params["b2"])
            loss, ds = softmax_cross_entropy(s, y)
            dh, dW2, db2 = affine_backward(ds, c3)
            da = relu_backward(dh, (h - a,))
            _, dW1, db1 = affine_backward(da, c1)
            return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    """)),
    Wrong("network_swaps_gradient_names", "two_layer_loss", _src("""
        def two_layer_loss(params, X, y):
            a, c1 = affine_forward(X, params["W1"], params["b1"])
            h, c2 = relu_forward(a)
            s, c3 = affine_forward(h, params["W2"], params["b2"])
            loss, ds = softmax_cross_entropy(s, y)
            dh, dW2, db2 = affine_backward(ds, c3)
            _, dW1, db1 = affine_backward(relu_backward(dh, c2), c1)
            return loss, {"W1": dW1, "b1": db2, "W2": dW2, "b2": db1}
    """)),
    Wrong("training_climbs_the_gradient", "train_two_layer", _src("""
        def train_two_layer(X, y, hidden_size=64, learning_rate=0.3, epochs=20, batch_size=32, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
            n, d = X.shape
            c = int(y.max()) + 1
            rng = np.random.default_rng(seed)
            p = {"W1": rng.normal(0, np.sqrt(2 / d), (d, hidden_size)), "b1": np.zeros(hidden_size),
                 "W2": rng.normal(0, np.sqrt(1 / hidden_size), (hidden_size, c)), "b2": np.zeros(c)}
            losses = []
            for e in range(epochs):
                lr = learning_rate * (1 - e / epochs)
                order = rng.permutation(n)
                for i in range(0, n, batch_size):
                    idx = order[i:i + batch_size]
                    _, g = two_layer_loss(p, X[idx], y[idx])
                    p = {k: p[k] + lr * g[k] for k in p}
                losses.append(two_layer_loss(p, X, y)[0])
            return p, np.array(losses)
    """)),
    Wrong("training_starts_from_zero_weights", "train_two_layer", _src("""
        def train_two_layer(X, y, hidden_size=64, learning_rate=0.3, epochs=20, batch_size=32, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
            n, d = X.shape
            c = int(y.max()) + 1
            rng = np.random.default_rng(seed)
            p = {"W1": np.zeros((d, hidden_size)), "b1": np.zeros(hidden_size),
                 "W2": np.zeros((hidden_size, c)), "b2": np.zeros(c)}
            losses = []
            for e in range(epochs):
                lr = learning_rate * (1 - e / epochs)
                order = rng.permutation(n)
                for i in range(0, n, batch_size):
                    idx = order[i:i + batch_size]
                    _, g = two_layer_loss(p, X[idx], y[idx])
                    p = {k: p[k] - lr * g[k] for k in p}
                losses.append(two_layer_loss(p, X, y)[0])
            return p, np.array(losses)
    """)),
    Wrong("training_updates_only_the_last_layer", "train_two_layer", _src("""
        def train_two_layer(X, y, hidden_size=64, learning_rate=0.3, epochs=20, batch_size=32, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
            n, d = X.shape
            c = int(y.max()) + 1
            rng = np.random.default_rng(seed)
            p = {"W1": rng.normal(0, np.sqrt(2 / d), (d, hidden_size)), "b1": np.zeros(hidden_size),
                 "W2": rng.normal(0, np.sqrt(1 / hidden_size), (hidden_size, c)), "b2": np.zeros(c)}
            losses = []
            for e in range(epochs):
                lr = learning_rate * (1 - e / epochs)
                order = rng.permutation(n)
                for i in range(0, n, batch_size):
                    idx = order[i:i + batch_size]
                    _, g = two_layer_loss(p, X[idx], y[idx])
                    p["W2"] = p["W2"] - lr * g["W2"]
                    p["b2"] = p["b2"] - lr * g["b2"]
                losses.append(two_layer_loss(p, X, y)[0])
            return p, np.array(losses)
    """)),
    Wrong("training_one_step_per_epoch", "train_two_layer", _src("""
        def train_two_layer(X, y, hidden_size=64, learning_rate=0.3, epochs=20, batch_size=32, seed=0):
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
            n, d = X.shape
            c = int(y.max()) + 1
            rng = np.random.default_rng(seed)
            p = {"W1": rng.normal(0, np.sqrt(2 / d), (d, hidden_size)), "b1": np.zeros(hidden_size),
                 "W2": rng.normal(0, np.sqrt(1 / hidden_size), (hidden_size, c)), "b2": np.zeros(c)}
            losses = []
            for e in range(epochs):
                idx = rng.permutation(n)[:batch_size]
                _, g = two_layer_loss(p, X[idx], y[idx])
                p = {k: p[k] - learning_rate * g[k] for k in p}
                losses.append(two_layer_loss(p, X, y)[0])
            return p, np.array(losses)
    """)),
]


CORRECT: list[Variant] = [
    Variant("checker_flat_basis_vectors", "centred_gradient", _src("""
        def centred_gradient(f, x, h=1e-5):
            x = np.asarray(x, dtype=float)
            flat = x.ravel()
            out = []
            for i in range(flat.size):
                e = np.zeros_like(flat)
                e[i] = h
                out.append((f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * h))
            return np.array(out, dtype=float).reshape(x.shape)
    """)),
    Variant("checker_nditer_on_a_copy", "centred_gradient", _src("""
        def centred_gradient(f, x, h=1e-5):
            point = np.array(x, dtype=np.float64, copy=True)
            grad = np.empty(point.shape)
            it = np.nditer(point, flags=["multi_index"])
            for _ in it:
                i = it.multi_index
                plus, minus = point.copy(), point.copy()
                plus[i] += h
                minus[i] -= h
                grad[i] = (f(plus) - f(minus)) / (2 * h)
            return grad
    """)),
    Variant("affine_forward_dot_and_broadcast_row", "affine_forward", _src("""
        def affine_forward(x, w, b):
            x, w, b = np.array(x, dtype=float), np.array(w, dtype=float), np.array(b, dtype=float)
            return np.dot(x, w) + b[np.newaxis, :], (x, w, b)
    """)),
    Variant("affine_forward_einsum", "affine_forward", _src("""
        def affine_forward(x, w, b):
            cache = tuple(np.asarray(a, dtype=float) for a in (x, w, b))
            x, w, b = cache
            return np.einsum("nd,dm->nm", x, w) + b, cache
    """)),
    Variant("affine_backward_einsum", "affine_backward", _src("""
        def affine_backward(dout, cache):
            x, w, _ = cache
            dout = np.asarray(dout, dtype=float)
            return np.einsum("nm,dm->nd", dout, w), np.einsum("nd,nm->dm", x, dout), np.einsum("nm->m", dout)
    """)),
    Variant("affine_backward_sum_of_outer_products", "affine_backward", _src("""
        def affine_backward(dout, cache):
            x, w, b = cache
            dout = np.asarray(dout, dtype=float)
            dw = np.zeros_like(w)
            for xn, dn in zip(x, dout):
                dw += np.outer(xn, dn)
            return np.dot(dout, w.T), dw, np.sum(dout, axis=0)
    """)),
    Variant("relu_forward_maximum", "relu_forward", _src("""
        def relu_forward(x):
            x = np.asarray(x, dtype=float)
            return np.maximum(x, 0), (x,)
    """)),
    Variant("relu_forward_mask_multiply", "relu_forward", _src("""
        def relu_forward(x):
            x = np.array(x, dtype=float)
            out = x.copy()
            out[x < 0] = 0.0
            return out, (x,)
    """)),
    Variant("relu_backward_where", "relu_backward", _src("""
        def relu_backward(dout, cache):
            return np.where(np.asarray(cache[0]) > 0, dout, 0.0)
    """)),
    Variant("relu_backward_copy_and_zero", "relu_backward", _src("""
        def relu_backward(dout, cache):
            dx = np.array(dout, dtype=float)
            dx[np.asarray(cache[0]) <= 0] = 0
            return dx
    """)),
    Variant("softmax_ce_one_hot_matrix", "softmax_cross_entropy", _src("""
        def softmax_cross_entropy(scores, y):
            s = np.asarray(scores, dtype=float)
            n, c = s.shape
            z = s - s.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            onehot = np.eye(c)[np.asarray(y, dtype=int)]
            return -np.sum(onehot * logp) / n, (np.exp(logp) - onehot) / n
    """)),
    Variant("softmax_ce_row_loop", "softmax_cross_entropy", _src("""
        def softmax_cross_entropy(scores, y):
            s = np.asarray(scores, dtype=float)
            n = len(s)
            loss, d = 0.0, np.zeros_like(s)
            for i, label in enumerate(np.asarray(y, dtype=int)):
                z = s[i] - s[i].max()
                lse = np.log(np.sum(np.exp(z)))
                loss += (lse - z[label]) / n
                d[i] = np.exp(z - lse) / n
                d[i, label] -= 1.0 / n
            return loss, d
    """)),
    Variant("two_layer_loss_inline", "two_layer_loss", _src("""
        def two_layer_loss(params, X, y):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=int)
            pre = X @ params["W1"] + params["b1"]
            h = np.maximum(pre, 0)
            z = h @ params["W2"] + params["b2"]
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            n = len(y)
            dz = np.exp(logp)
            dz[np.arange(n), y] -= 1
            dz /= n
            dh = dz @ params["W2"].T * (pre > 0)
            grads = {"W2": h.T @ dz, "b2": dz.sum(0), "W1": X.T @ dh, "b1": dh.sum(0)}
            return -logp[np.arange(n), y].mean(), grads
    """)),
    Variant("two_layer_loss_layers_in_a_list", "two_layer_loss", _src("""
        def two_layer_loss(params, X, y):
            caches, out = [], X
            for layer in ("1", "2"):
                out, cache = affine_forward(out, params["W" + layer], params["b" + layer])
                caches.append(cache)
                if layer == "1":
                    out, relu_cache = relu_forward(out)
            loss, d = softmax_cross_entropy(out, y)
            grads = {}
            d, grads["W2"], grads["b2"] = affine_backward(d, caches[1])
            d = relu_backward(d, relu_cache)
            _, grads["W1"], grads["b1"] = affine_backward(d, caches[0])
            return loss, grads
    """)),
    Variant("train_decays_the_rate_every_step", "train_two_layer", _src("""
        def train_two_layer(X, y, hidden_size=64, learning_rate=0.3, epochs=20, batch_size=32, seed=0):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=int)
            n, d = X.shape
            c = int(y.max()) + 1
            rng = np.random.default_rng(seed)
            p = {"W1": rng.standard_normal((d, hidden_size)) * np.sqrt(2 / d), "b1": np.zeros(hidden_size),
                 "W2": rng.standard_normal((hidden_size, c)) * np.sqrt(1 / hidden_size), "b2": np.zeros(c)}
            per_epoch = -(-n // batch_size)
            total, step, losses = epochs * per_epoch, 0, []
            for _ in range(epochs):
                order = rng.permutation(n)
                for start in range(0, n, batch_size):
                    rate = learning_rate * (1 - step / total)
                    idx = order[start:start + batch_size]
                    _, g = two_layer_loss(p, X[idx], y[idx])
                    for k in p:
                        p[k] = p[k] - rate * g[k]
                    step += 1
                losses.append(two_layer_loss(p, X, y)[0])
            return p, np.array(losses)
    """)),
    Variant("train_in_place_updates_and_array_split", "train_two_layer", _src("""
        def train_two_layer(X, y, hidden_size=64, learning_rate=0.3, epochs=20, batch_size=32, seed=0):
            X = np.asarray(X, dtype=float)
            y = np.asarray(y, dtype=int)
            n, d = X.shape
            c = int(np.max(y)) + 1
            rng = np.random.default_rng(seed)
            W1 = rng.normal(size=(d, hidden_size)) * np.sqrt(2.0 / d)
            W2 = rng.normal(size=(hidden_size, c)) * np.sqrt(2.0 / (hidden_size + c))
            params = {"W1": W1, "b1": np.zeros(hidden_size), "W2": W2, "b2": np.zeros(c)}
            losses = np.zeros(epochs)
            for epoch in range(epochs):
                rate = learning_rate * (epochs - epoch) / epochs
                perm = rng.permutation(n)
                for idx in np.array_split(perm, max(1, int(np.ceil(n / batch_size)))):
                    _, grads = two_layer_loss(params, X[idx], y[idx])
                    for name in params:
                        params[name] -= rate * grads[name]
                losses[epoch] = two_layer_loss(params, X, y)[0]
            return params, losses
    """)),
]
