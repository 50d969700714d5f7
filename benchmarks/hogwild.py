"""Benchmark: lock-free shared-memory SGD (Hogwild) with several processes against one process.

    .venv/bin/python benchmarks/hogwild.py [--procs 1 2 4] [--repeat 3] [--epochs 4]

A sparse least-squares problem (20,000 rows, 2,000 features, 8 non-zeros per row). The
parameters live in one multiprocessing.shared_memory block; worker processes (fork start
method) run plain SGD on it with no lock. Every configuration does the same total number of
updates (each process takes an equal share of the rows), so only the coordination differs.
A run with one global lock around each update shows what locking costs.

Printed per configuration: best and median wall time over --repeat runs, the speed-up of the
best time over the single process measured in this same process, and the final loss (mean
squared error over all rows) of every run. The speed-up is bounded by the number of idle
cores: the script prints os.cpu_count() and the load average so the figures can be read.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time
from multiprocessing import shared_memory

import numpy as np

ROWS, FEATURES, NNZ = 20_000, 2_000, 8


def make_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    cols = np.sort(rng.integers(0, FEATURES - NNZ + 1, size=(ROWS, NNZ)), axis=1) + np.arange(NNZ)
    vals = rng.normal(size=(ROWS, NNZ))
    w_true = rng.normal(size=FEATURES)
    y = np.einsum("ij,ij->i", vals, w_true[cols]) + 0.01 * rng.normal(size=ROWS)
    return cols, vals, y


COLS, VALS, Y = make_problem()


def loss(w: np.ndarray) -> float:
    return float(np.mean((np.einsum("ij,ij->i", VALS, w[COLS]) - Y) ** 2))


def worker(shared_w, rows, eta, epochs, seed, lock):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for i in rng.permutation(rows):
            c, v = COLS[i], VALS[i]
            if lock is None:
                shared_w[c] -= eta * (v @ shared_w[c] - Y[i]) * v
            else:
                with lock:
                    shared_w[c] -= eta * (v @ shared_w[c] - Y[i]) * v


def run(n_procs: int, locked: bool, eta: float, epochs: int) -> tuple[float, float]:
    ctx = mp.get_context("fork")
    block = shared_memory.SharedMemory(create=True, size=FEATURES * 8)
    try:
        w = np.ndarray((FEATURES,), dtype=np.float64, buffer=block.buf)
        w[:] = 0.0
        lock = ctx.Lock() if locked else None
        parts = np.array_split(np.random.default_rng(7).permutation(ROWS), n_procs)
        procs = [ctx.Process(target=worker, args=(w, parts[p], eta, epochs, 100 + p, lock))
                 for p in range(n_procs)]
        t0 = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        seconds = time.perf_counter() - t0
        if any(p.exitcode != 0 for p in procs):
            raise SystemExit(f"a worker failed: exit codes {[p.exitcode for p in procs]}")
        final = loss(w.copy())
        del w
        return seconds, final
    finally:
        block.close()
        block.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--eta", type=float, default=0.05)
    args = parser.parse_args()

    configs = [(p, False) for p in sorted(set(args.procs) | {1})] + [(max(args.procs), True)]
    print(f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.2f} (1 min)")
    print(f"{ROWS} rows x {FEATURES} features, {NNZ} non-zeros per row; {ROWS * args.epochs} updates per run; "
          f"loss at w = 0: {loss(np.zeros(FEATURES)):.4f}")
    print()
    print(f"{'configuration':26s}{'best s':>9s}{'median s':>10s}{'speed-up':>10s}   final losses")
    baseline = None
    for n_procs, locked in configs:
        results = [run(n_procs, locked, args.eta, args.epochs) for _ in range(args.repeat)]
        times = [t for t, _ in results]
        if baseline is None:
            baseline = min(times)
        name = f"{n_procs} process{'es' if n_procs > 1 else ''}, {'one lock' if locked else 'lock-free'}"
        finals = ", ".join(f"{f:.6f}" for _, f in results)
        print(f"{name:26s}{min(times):9.3f}{statistics.median(times):10.3f}{baseline / min(times):9.2f}x   {finals}")


if __name__ == "__main__":
    main()
