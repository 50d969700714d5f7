"""descentlab.datasets: the digits exactly as scikit-learn loads them, and a stratified split."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from descentlab.datasets import digits, stratified_split


def test_digits_are_sklearns_digits():
    from sklearn.datasets import load_digits

    reference = load_digits()
    X, y = digits()
    assert X.dtype == reference.data.dtype and y.dtype.kind == reference.target.dtype.kind
    np.testing.assert_array_equal(X, reference.data)
    np.testing.assert_array_equal(y, reference.target)
    X[0, 0] = -1.0  # a caller's copy: the next call is untouched
    assert digits()[0][0, 0] == reference.data[0, 0]


def test_digits_load_without_importing_sklearn():
    code = ("import sys; from descentlab.datasets import digits; X, y = digits(); "
            "assert X.shape == (1797, 64) and y.shape == (1797,); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"sklearn was imported: {out}"


def test_stratified_split_keeps_class_proportions_and_is_random():
    _, y = digits()
    rng = np.random.default_rng()
    train, test = stratified_split(y, 0.25, rng)
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == y.size
    for label in range(10):
        count = int(np.sum(y == label))
        assert int(np.sum(y[test] == label)) == round(0.25 * count)
    _, other = stratified_split(y, 0.25, rng)
    assert not np.array_equal(test, other)
