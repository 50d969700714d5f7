"""Small datasets the lessons and the exercises' tests use, read without importing scikit-learn.

scikit-learn ships the handwritten-digits data (1797 images of 8x8 pixels, values 0..16, from
the UCI optical digits set) and the diabetes data (442 patients, 10 measurements, a disease
progression score) as CSV files inside its package. ``sklearn.datasets.load_digits`` and
``load_diabetes`` read those files, but importing scikit-learn costs about 1.5 s of CPU, paid
by every grading kernel that runs exercise 03's hidden test and by every lesson kernel that
loads them. ``digits()`` and ``diabetes()`` read the same files with NumPy, and
tests/test_datasets.py checks that they return exactly what scikit-learn's loaders return.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["DIABETES_FEATURES", "diabetes", "digits", "stratified_split"]

# The columns of diabetes()'s X, in order (load_diabetes().feature_names).
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def _sklearn_data_file(name: str) -> Path:
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed; it ships the data files")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: scikit-learn's data file is missing")
    return path


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(_sklearn_data_file("digits.csv.gz"), delimiter=",")
    data, target = table[:, :-1], table[:, -1].astype(int)
    data.setflags(write=False)
    target.setflags(write=False)
    return data, target


def digits() -> tuple[np.ndarray, np.ndarray]:
    """(X, y): X of shape (1797, 64), pixel values 0..16 as floats; y the digit 0..9 of each
    image. The same arrays as ``sklearn.datasets.load_digits()``'s ``data`` and ``target``
    (fresh copies: a caller may change them)."""
    data, target = _digits()
    return data.copy(), target.copy()


@functools.lru_cache(maxsize=1)
def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    raw = np.loadtxt(_sklearn_data_file("diabetes_data_raw.csv.gz"))
    target = np.loadtxt(_sklearn_data_file("diabetes_target.csv.gz"))
    # load_diabetes()'s default scaling: every column centred, divided by its (population)
    # standard deviation and by sqrt(442), so each column has unit Euclidean norm.
    data = (raw - raw.mean(axis=0)) / raw.std(axis=0) / np.sqrt(raw.shape[0])
    data.setflags(write=False)
    target.setflags(write=False)
    return data, target


def diabetes() -> tuple[np.ndarray, np.ndarray]:
    """(X, y): X of shape (442, 10), the ten baseline measurements (DIABETES_FEATURES)
    centred and scaled to unit norm per column; y of shape (442,), disease progression one year
    later. The same arrays as ``sklearn.datasets.load_diabetes()``'s ``data`` and ``target``
    (fresh copies: a caller may change them)."""
    data, target = _diabetes()
    return data.copy(), target.copy()


def stratified_split(y, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, test_idx): a random split of ``range(len(y))`` that puts
    ``round(test_fraction * count)`` of every class's rows in the test part, so both parts
    keep the class proportions. Both index arrays are sorted."""
    labels = np.asarray(y)
    test = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        test.append(rng.permutation(rows)[: int(round(test_fraction * rows.size))])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx)
    return train_idx, test_idx
