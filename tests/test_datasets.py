"""descentlab.datasets: the digits and the diabetes data exactly as scikit-learn loads them, and
a stratified split."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from descentlab import datasets
from descentlab.datasets import digits, stratified_split

# Our loader, scikit-learn's, and the shapes of X.
LOADERS = [("digits", "load_digits", (1797, 64)), ("diabetes", "load_diabetes", (442, 10))]


@pytest.mark.parametrize("ours, theirs, shape", LOADERS)
def test_the_data_is_sklearns(ours, theirs, shape):
    import sklearn.datasets

    reference = getattr(sklearn.datasets, theirs)()
    X, y = getattr(datasets, ours)()
    assert X.shape == shape and y.shape == shape[:1]
    assert X.dtype == reference.data.dtype and y.dtype == reference.target.dtype
    np.testing.assert_array_equal(X, reference.data)
    np.testing.assert_array_equal(y, reference.target)
    X[0, 0] = -1.0  # a caller's copy: the next call is untouched
    assert getattr(datasets, ours)()[0][0, 0] == reference.data[0, 0]


def test_diabetes_feature_names_are_sklearns():
    from sklearn.datasets import load_diabetes

    assert list(datasets.DIABETES_FEATURES) == list(load_diabetes().feature_names)


@pytest.mark.parametrize("ours, theirs, shape", LOADERS)
def test_the_data_loads_without_importing_sklearn(ours, theirs, shape):
    code = (f"import sys; from descentlab.datasets import {ours}; X, y = {ours}(); "
            f"assert X.shape == {shape!r} and y.shape == {shape[:1]!r}; "
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
