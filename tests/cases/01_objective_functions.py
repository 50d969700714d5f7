"""Exercise 01: plausible wrong answers (each must lose points on the right test cell) and
correct variants (each must score full marks), graded by tests/test_verdicts.py.

The wrong answers are the slips the losses invite: a sum instead of a mean, a missing factor
2 or 1/N, a forgotten absolute value, exponentials that overflow for logits of 1000, a
softmax normalised over the wrong axis, a gradient that changes its input in place. The
correct variants are what a learner may write instead of the reference: loops over
elements, ``np.logaddexp``, one-hot matrices, ``np.take_along_axis``, list inputs.
"""
from __future__ import annotations

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src

# Test cells that call a function besides its own test (the reference's calls).
CALLERS = {"log_softmax": ("cross_entropy", "cross_entropy_grad")}

WRONG = [
    Wrong("mse_sums_instead_of_averaging", "mse", _src("""
        def mse(y_pred, y_true):
            return float(np.sum((np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)) ** 2))
    """)),
    Wrong("mse_averages_the_first_axis_only", "mse", _src("""
        def mse(y_pred, y_true):
            d = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
            return float(np.mean(np.sum(d ** 2, axis=-1)))
    """)),
    Wrong("mse_grad_forgets_the_two", "mse_grad", _src("""
        def mse_grad(y_pred, y_true):
            y_pred = np.asarray(y_pred, dtype=float)
            return (y_pred - np.asarray(y_true, dtype=float)) / y_pred.size
    """)),
    Wrong("mse_grad_sign_error", "mse_grad", _src("""
        def mse_grad(y_pred, y_true):
            y_pred = np.asarray(y_pred, dtype=float)
            return 2.0 * (np.asarray(y_true, dtype=float) - y_pred) / y_pred.size
    """)),
    Wrong("mae_forgets_the_absolute_value", "mae", _src("""
        def mae(y_pred, y_true):
            return float(np.mean(np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)))
    """)),
    Wrong("bce_through_the_sigmoid_overflows", "binary_cross_entropy", _src("""
        def binary_cross_entropy(logits, labels):
            z = np.asarray(logits, dtype=float)
            y = np.asarray(labels, dtype=float)
            p = 1 / (1 + np.exp(-z))
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    """)),
    Wrong("bce_labels_swapped", "binary_cross_entropy", _src("""
        def binary_cross_entropy(logits, labels):
            z = np.asarray(logits, dtype=float)
            y = 1 - np.asarray(labels, dtype=float)
            return float(np.mean(np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))) - y * z))
    """)),
    Wrong("log_softmax_without_the_max_shift", "log_softmax", _src("""
        def log_softmax(logits):
            z = np.asarray(logits, dtype=float)
            return z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    """)),
    Wrong("log_softmax_over_columns", "log_softmax", _src("""
        def log_softmax(logits):
            z = np.asarray(logits, dtype=float)
            shifted = z - np.max(z, axis=0, keepdims=True)
            return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    """)),
    Wrong("cross_entropy_sums_over_examples", "cross_entropy", _src("""
        def cross_entropy(logits, labels):
            logp = log_softmax(logits)
            labels = np.asarray(labels, dtype=int)
            return float(-np.sum(logp[np.arange(len(labels)), labels]))
    """)),
    Wrong("cross_entropy_averages_every_class", "cross_entropy", _src("""
        def cross_entropy(logits, labels):
            return float(-np.mean(log_softmax(logits)))
    """)),
    Wrong("cross_entropy_grad_forgets_one_over_n", "cross_entropy_grad", _src("""
        def cross_entropy_grad(logits, labels):
            probs = np.exp(log_softmax(logits))
            labels = np.asarray(labels, dtype=int)
            probs[np.arange(len(labels)), labels] -= 1.0
            return probs
    """)),
    Wrong("cross_entropy_grad_changes_its_input", "cross_entropy_grad", _src("""
        def cross_entropy_grad(logits, labels):
            logits -= np.max(logits, axis=1, keepdims=True)
            probs = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
            labels = np.asarray(labels, dtype=int)
            probs[np.arange(len(labels)), labels] -= 1.0
            return probs / len(labels)
    """)),
]

CORRECT: list[Variant] = [
    Variant("mse_loop_over_elements", "mse", _src("""
        def mse(y_pred, y_true):
            pairs = list(zip(np.ravel(y_pred).tolist(), np.ravel(y_true).tolist()))
            total = 0.0
            for p, t in pairs:
                total += (p - t) ** 2
            return total / len(pairs)
    """)),
    Variant("mse_numpy_scalar_from_subtract", "mse", _src("""
        def mse(y_pred, y_true):
            return np.square(np.subtract(y_pred, y_true, dtype=float)).mean()
    """)),
    # A 1-element array where a float is promised is accepted (the docstrings say so).
    Variant("mse_one_element_array", "mse", _src("""
        def mse(y_pred, y_true):
            d = np.subtract(y_pred, y_true, dtype=float).reshape(-1)
            return (d @ d / d.size).reshape(1)
    """)),
    Variant("mse_grad_loop_over_indices", "mse_grad", _src("""
        def mse_grad(y_pred, y_true):
            p = np.asarray(y_pred, dtype=float)
            t = np.asarray(y_true, dtype=float)
            out = np.empty_like(p)
            for index in np.ndindex(p.shape):
                out[index] = 2 * (p[index] - t[index]) / p.size
            return out
    """)),
    Variant("mse_grad_subtract_then_scale", "mse_grad", _src("""
        def mse_grad(y_pred, y_true):
            diff = np.subtract(y_pred, y_true, dtype=float)
            return diff * (2.0 / np.size(diff))
    """)),
    Variant("mae_loop_with_math_fabs", "mae", _src("""
        import math

        def mae(y_pred, y_true):
            a, b = np.ravel(y_pred).tolist(), np.ravel(y_true).tolist()
            return math.fsum(math.fabs(p - t) for p, t in zip(a, b)) / len(a)
    """)),
    Variant("mae_sum_over_size", "mae", _src("""
        def mae(y_pred, y_true):
            d = np.abs(np.subtract(y_pred, y_true, dtype=float))
            return d.sum() / d.size
    """)),
    Variant("mae_one_by_one_array", "mae", _src("""
        def mae(y_pred, y_true):
            d = np.abs(np.subtract(y_pred, y_true, dtype=float)).reshape(1, -1)
            return d.mean(axis=1, keepdims=True)
    """)),
    Variant("bce_one_element_array", "binary_cross_entropy", _src("""
        def binary_cross_entropy(logits, labels):
            z = np.asarray(logits, dtype=float).reshape(1, -1)
            return np.mean(np.logaddexp(0.0, z) - np.asarray(labels).reshape(1, -1) * z, axis=1)
    """)),
    Variant("bce_with_logaddexp", "binary_cross_entropy", _src("""
        def binary_cross_entropy(logits, labels):
            z = np.asarray(logits, dtype=float)
            return float(np.mean(np.logaddexp(0.0, z) - np.asarray(labels) * z))
    """)),
    Variant("bce_loop_with_two_branches", "binary_cross_entropy", _src("""
        import math

        def binary_cross_entropy(logits, labels):
            total = 0.0
            for z, y in zip(np.ravel(logits).tolist(), np.ravel(labels).tolist()):
                # -log sigmoid(z) for y = 1, -log(1 - sigmoid(z)) for y = 0, each without overflow
                if y == 1:
                    total += math.log1p(math.exp(-z)) if z >= 0 else -z + math.log1p(math.exp(z))
                else:
                    total += z + math.log1p(math.exp(-z)) if z >= 0 else math.log1p(math.exp(z))
            return total / len(np.ravel(logits))
    """)),
    Variant("log_softmax_with_logaddexp_reduce", "log_softmax", _src("""
        def log_softmax(logits):
            z = np.asarray(logits, dtype=float)
            return z - np.logaddexp.reduce(z, axis=1, keepdims=True)
    """)),
    Variant("log_softmax_row_by_row", "log_softmax", _src("""
        def log_softmax(logits):
            rows = []
            for row in np.asarray(logits, dtype=float):
                m = row.max()
                rows.append(row - (m + np.log(np.exp(row - m).sum())))
            return np.array(rows)
    """)),
    Variant("cross_entropy_take_along_axis", "cross_entropy", _src("""
        def cross_entropy(logits, labels):
            labels = np.asarray(labels, dtype=int)
            picked = np.take_along_axis(log_softmax(logits), labels[:, None], axis=1)
            return -picked.mean()
    """)),
    Variant("cross_entropy_zero_d_array", "cross_entropy", _src("""
        def cross_entropy(logits, labels):
            labels = np.asarray(labels, dtype=int)
            return np.array(-log_softmax(logits)[np.arange(len(labels)), labels].mean())
    """)),
    Variant("cross_entropy_loop_without_log_softmax", "cross_entropy", _src("""
        import math

        def cross_entropy(logits, labels):
            total = 0.0
            rows = np.asarray(logits, dtype=float).tolist()
            for row, label in zip(rows, np.asarray(labels).tolist()):
                m = max(row)
                total += m + math.log(sum(math.exp(v - m) for v in row)) - row[label]
            return total / len(rows)
    """)),
    Variant("cross_entropy_grad_one_hot_matrix", "cross_entropy_grad", _src("""
        def cross_entropy_grad(logits, labels):
            z = np.asarray(logits, dtype=float)
            e = np.exp(z - z.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            onehot = np.eye(z.shape[1])[np.asarray(labels, dtype=int)]
            return (probs - onehot) / z.shape[0]
    """)),
    Variant("cross_entropy_grad_row_loop", "cross_entropy_grad", _src("""
        def cross_entropy_grad(logits, labels):
            z = np.array(logits, dtype=float)          # a copy: the caller's array stays as it was
            n = z.shape[0]
            for i, label in enumerate(np.asarray(labels, dtype=int)):
                row = np.exp(z[i] - z[i].max())
                z[i] = row / row.sum()
                z[i, label] -= 1.0
            return z / n
    """)),
]
