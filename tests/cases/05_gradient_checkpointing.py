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
    Variant("segments_zip_with_the_next_start", "segments", _src("""
        def segments(n_layers, checkpoints):
            cps = list(checkpoints)
            if len(cps) == 0 or cps[0] != 0:
                raise ValueError("the plan must start at layer 0")
            if sorted(set(cps)) != cps:
                raise ValueError("the plan must be strictly increasing")
            if cps[-1] > n_layers - 1:
                raise ValueError("a checkpoint past the last layer")
            return list(zip(cps, cps[1:] + [n_layers]))
    """)),
    Variant("segments_loop_with_checks_per_item", "segments", _src("""
        def segments(n_layers, checkpoints):
            if len(checkpoints) == 0:
                raise ValueError("empty plan")
            out, previous = [], None
            for c in checkpoints:
                c = int(c)
                if previous is None and c != 0:
                    raise ValueError("the first checkpoint must be 0")
                if previous is not None and c <= previous:
                    raise ValueError("not strictly increasing")
                if c >= n_layers:
                    raise ValueError("checkpoint out of range")
                if previous is not None:
                    out.append((previous, c))
                previous = c
            out.append((previous, int(n_layers)))
            return out
    """)),
    Variant("costs_through_segments", "checkpoint_costs", _src("""
        def checkpoint_costs(n_layers, checkpoints):
            parts = segments(n_layers, checkpoints)
            lengths = [end - start for start, end in parts]
            return len(parts) + max(lengths), sum(lengths) - len(parts)
    """)),
    Variant("costs_numpy_diff", "checkpoint_costs", _src("""
        def checkpoint_costs(n_layers, checkpoints):
            lengths = np.diff(np.append(np.asarray(checkpoints, dtype=int), n_layers))
            return int(len(lengths) + lengths.max()), int(n_layers - len(lengths))
    """)),
    # Promised ints returned another way: whole floats count as ints (descentlab.expect.as_int).
    Variant("costs_as_whole_floats", "checkpoint_costs", _src("""
        def checkpoint_costs(n_layers, checkpoints):
            bounds = np.append(np.asarray(checkpoints, dtype=float), n_layers)
            lengths = np.diff(bounds)
            return float(len(lengths) + lengths.max()), float(n_layers - len(lengths))
    """)),
    Variant("choose_longer_segments_last", "choose_checkpoints", _src("""
        def choose_checkpoints(n_layers, budget):
            for m in range(n_layers, 0, -1):
                if m + -(-n_layers // m) <= budget:
                    short, extra = divmod(n_layers, m)
                    lengths = [short] * (m - extra) + [short + 1] * extra
                    return [int(v) for v in np.cumsum([0] + lengths[:-1])]
            raise ValueError("no plan fits the budget")
    """)),
    Variant("choose_evenly_spaced_by_integer_division", "choose_checkpoints", _src("""
        import math

        def choose_checkpoints(n_layers, budget):
            best = None
            for m in range(1, n_layers + 1):
                if m + math.ceil(n_layers / m) <= budget:
                    best = m
            if best is None:
                raise ValueError(f"no plan for {n_layers} layers within {budget}")
            return [i * n_layers // best for i in range(best)]
    """)),
    Variant("choose_rounded_float_array", "choose_checkpoints", _src("""
        def choose_checkpoints(n_layers, budget):
            for m in range(n_layers, 0, -1):
                if m + -(-n_layers // m) <= budget:
                    return np.round(np.arange(m) * n_layers / m)  # whole floats, evenly spread
            raise ValueError("no plan fits the budget")
    """)),
    # The memory test seals activations (they may only go back into the layer functions), so
    # correct variants differ in how they walk the layers, not in touching activations.
    Variant("forward_while_loop_pops_the_plan", "checkpointed_forward", _src("""
        def checkpointed_forward(x, weights, checkpoints):
            plan = sorted(set(int(c) for c in checkpoints))
            saved, h, i = {}, np.asarray(x, dtype=float), 0
            while i < len(weights):
                if plan and plan[0] == i:
                    saved[plan.pop(0)] = h
                h = layer_forward(h, weights[i])
                i += 1
            return h, saved
    """)),
    Variant("forward_copies_only_the_input", "checkpointed_forward", _src("""
        def checkpointed_forward(x, weights, checkpoints):
            plan = frozenset(int(c) for c in checkpoints)
            h = np.array(x, dtype=float)  # a private copy of the input is fine
            saved = {}
            for index in range(len(weights)):
                if index in plan:
                    saved[index] = h
                h = layer_forward(h, weights[index])
            return h, saved
    """)),
    Variant("backward_segment_activations_in_a_dict", "checkpointed_backward", _src("""
        def checkpointed_backward(dout, weights, saved, output):
            n = len(weights)
            grads = [None] * n
            g = np.array(dout, dtype=float)
            count = 0
            starts = sorted(saved)
            for j in range(len(starts) - 1, -1, -1):
                start = starts[j]
                end = starts[j + 1] if j + 1 < len(starts) else n
                acts = {start: saved[start]}
                for i in range(start, end - 1):
                    acts[i + 1] = layer_forward(acts[i], weights[i])
                    count += 1
                acts[end] = saved[end] if end in saved else output
                for i in range(end - 1, start - 1, -1):
                    g, grads[i] = layer_backward(g, acts[i], acts[i + 1], weights[i])
                acts.clear()
            return g, grads, count
    """)),
    Variant("backward_accumulate_each_segment", "checkpointed_backward", _src("""
        import itertools

        def checkpointed_backward(dout, weights, saved, output):
            n = len(weights)
            bounds = sorted(int(c) for c in saved) + [n]
            grads, g, count = [None] * n, np.asarray(dout, dtype=float), 0
            for start, end in reversed(list(zip(bounds, bounds[1:]))):
                acts = list(itertools.accumulate(weights[start:end - 1], layer_forward, initial=saved[start]))
                count += len(acts) - 1
                acts.append(saved[end] if end < n else output)
                for i in range(end - 1, start - 1, -1):
                    g, grads[i] = layer_backward(g, acts[i - start], acts[i - start + 1], weights[i])
                del acts
            return g, grads, count
    """)),
    Variant("backward_counts_in_a_one_element_array", "checkpointed_backward", _src("""
        def checkpointed_backward(dout, weights, saved, output):
            n = len(weights)
            starts = sorted(saved)
            ends = starts[1:] + [n]
            grads, g = [None] * n, np.asarray(dout, dtype=float)
            count = np.zeros(1, dtype=int)  # n_recomputed comes back as a 1-element array
            for s, e in zip(reversed(starts), reversed(ends)):
                seg = [saved[s]]
                for i in range(s, e - 1):
                    seg.append(layer_forward(seg[-1], weights[i]))
                    count += 1
                seg.append(saved[e] if e < n else output)
                for i in reversed(range(s, e)):
                    g, grads[i] = layer_backward(g, seg[i - s], seg[i - s + 1], weights[i])
                del seg
            return g, grads, count
    """)),
]
