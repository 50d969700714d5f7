"""Benchmark: sqrt(n) gradient checkpointing against plain backprop on a deep tanh network.

Target (issue 5): for 64 layers, checkpoints every sqrt(n) = 8 layers keep at most 1/3 of
plain backprop's peak activation memory for at most 1.5x its compute.

    .venv/bin/python benchmarks/checkpointing_memory.py [--layers 64] [--batch 512] [--width 64]
                                                        [--rounds 15] [--sweep]

Both variants run in this process, on the same network, interleaved round by round.
* Memory: peak bytes allocated during one forward + backward, measured with tracemalloc
  (numpy reports its buffers to it). The weight-gradient arrays are allocated beforehand and
  written in place, so the "activation" figure is activations plus scratch space; the
  "total" figure repeats the measurement with the gradients allocated inside the call.
* Compute: CPU time (time.process_time) with BLAS limited to one thread; best and median
  of --rounds rounds, plain backprop timed right beside the checkpointed run in each round.
* The gradients of both variants are compared bit for bit.
"""
from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits


def layer(a, W):
    z = a @ W
    np.tanh(z, out=z)
    return z


def layer_grad(g, a_in, a_out, W, gW):
    d = a_out * a_out
    np.subtract(1.0, d, out=d)
    d *= g
    np.matmul(a_in.T, d, out=gW)
    return d @ W.T


def plain(x, Ws, g, gWs):
    acts = [x]
    for W in Ws:
        acts.append(layer(acts[-1], W))
    for i in reversed(range(len(Ws))):
        out = acts.pop()
        g = layer_grad(g, acts[-1], out, Ws[i], gWs[i])
    return g


def checkpointed(x, Ws, g, gWs, k):
    n = len(Ws)
    keep, a = {}, x
    for i, W in enumerate(Ws):
        if i % k == 0:
            keep[i] = a
        a = layer(a, W)
    top = a
    for s in sorted(keep, reverse=True):
        e = min(s + k, n)
        seg = [keep.pop(s)]
        for i in range(s, e - 1):
            seg.append(layer(seg[-1], Ws[i]))
        seg.append(top)
        for i in reversed(range(s, e)):
            out = seg.pop()
            g = layer_grad(g, seg[-1], out, Ws[i], gWs[i])
        top = seg.pop()
    return g


def peak(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def cpu(run) -> float:
    t0 = time.process_time()
    run()
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=64)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--sweep", action="store_true", help="also print every segment length k")
    args = parser.parse_args()

    n, k = args.layers, max(1, round(math.sqrt(args.layers)))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.width))
    Ws = [rng.normal(scale=1 / math.sqrt(args.width), size=(args.width, args.width)) for _ in range(n)]
    g = rng.normal(size=(args.batch, args.width))
    gW_plain = [np.empty_like(W) for W in Ws]
    gW_ckpt = [np.empty_like(W) for W in Ws]
    act = x.nbytes

    dx_plain = plain(x, Ws, g, gW_plain)
    dx_ckpt = checkpointed(x, Ws, g, gW_ckpt, k)
    identical = np.array_equal(dx_plain, dx_ckpt) and all(
        np.array_equal(a, b) for a, b in zip(gW_plain, gW_ckpt))

    mem_plain = peak(lambda: plain(x, Ws, g, gW_plain))
    mem_ckpt = peak(lambda: checkpointed(x, Ws, g, gW_ckpt, k))
    total_plain = peak(lambda: plain(x, Ws, g, [np.empty_like(W) for W in Ws]))
    total_ckpt = peak(lambda: checkpointed(x, Ws, g, [np.empty_like(W) for W in Ws], k))

    t_plain, t_ckpt, ratios = [], [], []
    with threadpool_limits(limits=1):
        for _ in range(args.rounds):
            a = cpu(lambda: plain(x, Ws, g, gW_plain))
            b = cpu(lambda: checkpointed(x, Ws, g, gW_ckpt, k))
            t_plain.append(a)
            t_ckpt.append(b)
            ratios.append(b / a)

    mem_ratio = mem_ckpt / mem_plain
    time_ratio = min(t_ckpt) / min(t_plain)
    flops_ratio = 1 + (n - math.ceil(n / k)) / (3 * n)
    print(f"network: {n} tanh layers, batch {args.batch}, width {args.width}; one activation = {act / 2**10:.0f} KiB")
    print(f"checkpoints every k = {k} layers (sqrt(n)); gradients identical to plain backprop: {identical}")
    print()
    print(f"{'':34s}{'plain':>12s}{'checkpointed':>14s}{'ratio':>8s}{'target':>10s}")
    print(f"{'peak activation memory (MiB)':34s}{mem_plain / 2**20:12.2f}{mem_ckpt / 2**20:14.2f}"
          f"{mem_ratio:8.3f}{'<= 0.333':>10s}")
    print(f"{'  in activations':34s}{mem_plain / act:12.1f}{mem_ckpt / act:14.1f}")
    print(f"{'  model: ceil(n/k) + k arrays':34s}{n + 1:12d}{math.ceil(n / k) + k:14d}"
          f"{(math.ceil(n / k) + k) / (n + 1):8.3f}")
    print(f"{'peak incl. weight gradients (MiB)':34s}{total_plain / 2**20:12.2f}{total_ckpt / 2**20:14.2f}"
          f"{total_ckpt / total_plain:8.3f}")
    print(f"{'compute, best CPU time (ms)':34s}{min(t_plain) * 1e3:12.2f}{min(t_ckpt) * 1e3:14.2f}"
          f"{time_ratio:8.3f}{'<= 1.5':>10s}")
    print(f"{'compute, median CPU time (ms)':34s}{statistics.median(t_plain) * 1e3:12.2f}"
          f"{statistics.median(t_ckpt) * 1e3:14.2f}{statistics.median(t_ckpt) / statistics.median(t_plain):8.3f}")
    print(f"{'  median of per-round ratios':34s}{'':12s}{'':14s}{statistics.median(ratios):8.3f}")
    print(f"{'  model: matrix products':34s}{'':12s}{'':14s}{flops_ratio:8.3f}")
    print()
    ok = identical and mem_ratio <= 1 / 3 and time_ratio <= 1.5
    print(f"targets met: {'yes' if ok else 'NO'} (memory {mem_ratio:.3f} <= 0.333, compute {time_ratio:.3f} <= 1.5)")

    if args.sweep:
        print()
        print(f"{'k':>4s}{'memory ratio':>14s}{'model':>8s}{'time ratio':>12s}{'model':>8s}")
        ks = sorted({1, 2, 4, k, 16, 32, n})
        best = {kk: math.inf for kk in ks}
        best_plain = math.inf
        with threadpool_limits(limits=1):
            for _ in range(args.rounds):            # interleaved: every k in every round
                for kk in ks:
                    best_plain = min(best_plain, cpu(lambda: plain(x, Ws, g, gW_plain)))
                    best[kk] = min(best[kk], cpu(lambda: checkpointed(x, Ws, g, gW_ckpt, kk)))
        for kk in ks:
            m = peak(lambda: checkpointed(x, Ws, g, gW_ckpt, kk)) / mem_plain
            print(f"{kk:4d}{m:14.3f}{(math.ceil(n / kk) + kk) / (n + 1):8.3f}{best[kk] / best_plain:12.3f}"
                  f"{1 + (n - math.ceil(n / kk)) / (3 * n):8.3f}")


if __name__ == "__main__":
    main()
