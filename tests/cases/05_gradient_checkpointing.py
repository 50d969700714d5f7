"""Exercise 05: plausible wrong answers (each must lose points on the right test cell) and
correct variants (each must score full marks), graded by tests/test_verdicts.py.

Every submission below is the reference solution with ONE function replaced by a mistake a
learner could make (a segment off by one, the output forgotten in the count, recomputation
skipped, every activation recomputed at once so nothing is saved...). All of them are graded
together in one real `nbgrader autograde` run; each must lose points on the test cell of the
function it breaks, and nowhere else (the reference solutions do not call each other). Some
mistakes give the right gradients and only the measured memory or the recomputation count
gives them away: those are the ones this file is most about.
"""
from __future__ import annotations

import textwrap

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src


_BACKWARD_HEADER = "def checkpointed_backward(dout, weights, saved, output):\n"


def _backward(body: str) -> str:
    return _BACKWARD_HEADER + textwrap.indent(_src(body), "    ")


WRONG = [
    # segments
    Wrong("segment_ends_one_layer_early", "segments", _src("""
        def segments(n_layers, checkpoints):
            points = list(checkpoints)
            if not points or points[0] != 0 or points[-1] >= n_layers:
                raise ValueError("bad plan")
            if any(b <= a for a, b in zip(points, points[1:])):
                raise ValueError("bad plan")
            return [(s, e) for s, e in zip(points, [c - 1 for c in points[1:]] + [n_layers])]
    """)),
    Wrong("last_segment_stops_before_the_output", "segments", _src("""
        def segments(n_layers, checkpoints):
            points = list(checkpoints)
            if not points or points[0] != 0 or points[-1] >= n_layers:
                raise ValueError("bad plan")
            if any(b <= a for a, b in zip(points, points[1:])):
                raise ValueError("bad plan")
            return list(zip(points, points[1:] + [n_layers - 1]))
    """)),
    Wrong("segments_accept_any_plan", "segments", _src("""
        def segments(n_layers, checkpoints):
            points = list(checkpoints)
            return list(zip(points, points[1:] + [n_layers]))
    """)),
    # checkpoint_costs
    Wrong("peak_forgets_the_output", "checkpoint_costs", _src("""
        def checkpoint_costs(n_layers, checkpoints):
            ends = list(checkpoints[1:]) + [n_layers]
            longest = max(e - s for s, e in zip(checkpoints, ends))
            return len(checkpoints) + longest - 1, n_layers - len(checkpoints)
    """)),
    Wrong("extra_recomputes_every_layer", "checkpoint_costs", _src("""
        def checkpoint_costs(n_layers, checkpoints):
            ends = list(checkpoints[1:]) + [n_layers]
            longest = max(e - s for s, e in zip(checkpoints, ends))
            return len(checkpoints) + longest, n_layers
    """)),
    Wrong("peak_from_the_first_segment_only", "checkpoint_costs", _src("""
        def checkpoint_costs(n_layers, checkpoints):
            ends = list(checkpoints[1:]) + [n_layers]
            return len(checkpoints) + ends[0] - checkpoints[0], n_layers - len(checkpoints)
    """)),
    # choose_checkpoints
    Wrong("always_sqrt_spacing", "choose_checkpoints", _src("""
        def choose_checkpoints(n_layers, budget):
            k = max(1, int(round(n_layers ** 0.5)))
            return list(range(0, n_layers, k))
    """)),
    Wrong("fewest_checkpoints_that_fit", "choose_checkpoints", _src("""
        def choose_checkpoints(n_layers, budget):
            for m in range(1, n_layers + 1):
                longest = -(-n_layers // m)
                if m + longest <= budget:
                    return [int(round(j * n_layers / m)) for j in range(m)]
            raise ValueError("no plan fits")
    """)),
    Wrong("budget_must_not_be_reached", "choose_checkpoints", _src("""
        def choose_checkpoints(n_layers, budget):
            for m in range(n_layers, 0, -1):
                longest = -(-n_layers // m)
                if m + longest < budget:
                    return [int(round(j * n_layers / m)) for j in range(m)]
            raise ValueError("no plan fits")
    """)),
    Wrong("no_error_when_nothing_fits", "choose_checkpoints", _src("""
        def choose_checkpoints(n_layers, budget):
            for m in range(n_layers, 0, -1):
                longest = -(-n_layers // m)
                if m + longest <= budget:
                    return [int(round(j * n_layers / m)) for j in range(m)]
            return [0]
    """)),
    # checkpointed_forward
    Wrong("forward_keeps_every_activation", "checkpointed_forward", _src("""
        def checkpointed_forward(x, weights, checkpoints):
            saved, h = {}, np.asarray(x, dtype=float)
            for i, W in enumerate(weights):
                saved[i] = h
                h = layer_forward(h, W)
            return h, saved
    """)),
    Wrong("forward_saves_layer_outputs", "checkpointed_forward", _src("""
        def checkpointed_forward(x, weights, checkpoints):
            saved, h = {}, np.asarray(x, dtype=float)
            for i, W in enumerate(weights):
                h = layer_forward(h, W)
                if i in checkpoints:
                    saved[i] = h
            return h, saved
    """)),
    Wrong("forward_builds_every_activation_then_filters", "checkpointed_forward", _src("""
        def checkpointed_forward(x, weights, checkpoints):
            acts = [np.asarray(x, dtype=float)]
            for W in weights:
                acts.append(layer_forward(acts[-1], W))
            return acts[-1], {int(c): acts[c] for c in checkpoints}
    """)),
    # checkpointed_backward
    Wrong("recomputation_skipped", "checkpointed_backward", _backward("""
        n = len(weights)
        starts = sorted(saved)
        ends = starts[1:] + [n]
        grads, grad, count = [None] * n, dout, 0
        for s, e in zip(reversed(starts), reversed(ends)):
            h_in = saved[s]
            for i in reversed(range(s, e)):
                out = layer_forward(h_in, weights[i])
                count += 1
                grad, grads[i] = layer_backward(grad, h_in, out, weights[i])
        return grad, grads, count
    """)),
    Wrong("recompute_from_the_input_for_every_segment", "checkpointed_backward", _backward("""
        n = len(weights)
        starts = sorted(saved)
        ends = starts[1:] + [n]
        grads, grad, count = [None] * n, dout, 0
        for s, e in zip(reversed(starts), reversed(ends)):
            h = saved[0]
            for i in range(0, s):
                h = layer_forward(h, weights[i])
                count += 1
            seg = [h]
            for i in range(s, e - 1):
                seg.append(layer_forward(seg[-1], weights[i]))
                count += 1
            seg.append(saved[e] if e < n else output)
            for i in reversed(range(s, e)):
                grad, grads[i] = layer_backward(grad, seg[i - s], seg[i - s + 1], weights[i])
        return grad, grads, count
    """)),
    Wrong("segment_recomputes_its_top_too", "checkpointed_backward", _backward("""
        n = len(weights)
        starts = sorted(saved)
        ends = starts[1:] + [n]
        grads, grad, count = [None] * n, dout, 0
        for s, e in zip(reversed(starts), reversed(ends)):
            seg = [saved[s]]
            for i in range(s, e):
                seg.append(layer_forward(seg[-1], weights[i]))
                count += 1
            for i in reversed(range(s, e)):
                grad, grads[i] = layer_backward(grad, seg[i - s], seg[i - s + 1], weights[i])
        return grad, grads, count
    """)),
    Wrong("recompute_everything_at_once", "checkpointed_backward", _backward("""
        n = len(weights)
        acts, count = [None] * (n + 1), 0
        acts[n] = output
        for i in range(n):
            if i in saved:
                acts[i] = saved[i]
            else:
                acts[i] = layer_forward(acts[i - 1], weights[i - 1])
                count += 1
        grads, grad = [None] * n, dout
        for i in reversed(range(n)):
            grad, grads[i] = layer_backward(grad, acts[i], acts[i + 1], weights[i])
        return grad, grads, count
    """)),
    Wrong("gradients_in_backward_order", "checkpointed_backward", _backward("""
        n = len(weights)
        starts = sorted(saved)
        ends = starts[1:] + [n]
        grads, grad, count = [], dout, 0
        for s, e in zip(reversed(starts), reversed(ends)):
            seg = [saved[s]]
            for i in range(s, e - 1):
                seg.append(layer_forward(seg[-1], weights[i]))
                count += 1
            seg.append(saved[e] if e < n else output)
            for i in reversed(range(s, e)):
                grad, g_w = layer_backward(grad, seg[i - s], seg[i - s + 1], weights[i])
                grads.append(g_w)
        return grad, grads, count
    """)),
]


CORRECT: list[Variant] = [
]
