"""Exercise 03's Scalar autograd engine: wrong answers and correct variants.

Each wrong answer is the reference class with ONE method broken the way a learner might
break it (assigning instead of adding into .grad, a topological sort without a visited set,
a derivative off by a power...); it must lose points on test_Scalar and nowhere else. The
correct variants sort the graph differently (recursion under a raised limit, Kahn's
algorithm) or store the graph differently (a closure per node, as micrograd does) and must
score full marks.
"""
from __future__ import annotations

import textwrap

from grading_support import REPO, Variant, Wrong, reference_sources
from grading_support import dedent_source as _src

_REFERENCE = reference_sources(REPO, "03_backpropagation")["03_backpropagation_exercise"]["Scalar"]


def _swap(old: str, new: str) -> str:
    """The reference Scalar with ``old`` (which must occur exactly once) replaced by ``new``."""
    old, new = old.strip("\n"), new.strip("\n")
    assert _REFERENCE.count(old) == 1, f"not exactly once in the reference Scalar: {old!r}"
    return _REFERENCE.replace(old, new)


_BACKWARD = """
        # Depth-first post-order with an explicit stack: no recursion, whatever the depth.
        order, placed, stack = [], set(), [(self, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif id(node) not in placed:
                placed.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent, _ in node.parents if id(parent) not in placed)
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in node.parents:
                parent.grad += local * node.grad
"""


def _backward(body: str) -> str:
    """The reference Scalar with the body of backward() replaced by ``body``."""
    return _swap(_BACKWARD, textwrap.indent(_src(body), " " * 8))


WRONG = [
    Wrong("scalar_backward_assigns_grad", "Scalar", _swap(
        "parent.grad += local * node.grad", "parent.grad = local * node.grad")),
    Wrong("scalar_topological_sort_without_visited_set", "Scalar", _backward("""
        ordered = []

        def place(node):
            for parent, _ in node.parents:
                place(parent)
            ordered.append(node)

        place(self)
        self.grad = 1.0
        for node in reversed(ordered):
            for parent, local in node.parents:
                parent.grad += local * node.grad
    """)),
    Wrong("scalar_recursive_sort_fails_the_promised_depth", "Scalar", _backward("""
        ordered, seen = [], set()

        def place(node):  # the lesson's recursive sort: about 1000 levels at most
            if id(node) in seen:
                return
            seen.add(id(node))
            for parent, _ in node.parents:
                place(parent)
            ordered.append(node)

        place(self)
        self.grad = 1.0
        for node in reversed(ordered):
            for parent, local in node.parents:
                parent.grad += local * node.grad
    """)),
    Wrong("scalar_backward_by_plain_recursion", "Scalar", _backward("""
        self.grad = 1.0

        def push(node):  # sends the node's gradient so far down every path, without sorting
            for parent, local in node.parents:
                parent.grad += local * node.grad
                push(parent)

        push(self)
    """)),
    Wrong("scalar_backward_forgets_the_seed", "Scalar", _swap(
        "        self.grad = 1.0\n        for node in reversed(order):",
        "        for node in reversed(order):")),
    Wrong("scalar_pow_derivative_keeps_k", "Scalar", _swap(
        "[(self, k * self.value ** (k - 1))]", "[(self, k * self.value ** k)]")),
    Wrong("scalar_tanh_derivative_not_squared", "Scalar", _swap(
        "[(self, 1.0 - out ** 2)]", "[(self, 1.0 - out)]")),
    Wrong("scalar_exp_derivative_is_the_input", "Scalar", _swap(
        "return Scalar(out, [(self, out)])", "return Scalar(out, [(self, self.value)])")),
    Wrong("scalar_log_derivative_wrong", "Scalar", _swap(
        "[(self, 1.0 / self.value)]", "[(self, 1.0 / self.value ** 2)]")),
    Wrong("scalar_relu_passes_gradient_at_zero", "Scalar", _swap(
        "active = self.value > 0", "active = self.value >= 0")),
    Wrong("scalar_rsub_backwards", "Scalar", _swap(
        "return Scalar.wrap(other).__sub__(self)", "return self - Scalar.wrap(other)")),
    Wrong("scalar_division_derivative_wrong", "Scalar", _swap(
        "        return self * rhs ** -1.0",
        "        return Scalar(self.value / rhs.value, [(self, 1.0 / rhs.value), (rhs, 1.0 / self.value)])")),
]

CORRECT = [
    Variant("scalar_recursive_sort_with_a_raised_limit", "Scalar", _backward("""
        import sys

        ordered, seen = [], set()

        def place(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for parent, _ in node.parents:
                place(parent)
            ordered.append(node)

        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
        place(self)
        self.grad = 1.0
        for node in reversed(ordered):
            for parent, local in node.parents:
                parent.grad += local * node.grad
    """)),
    Variant("scalar_kahn_order_by_use_counts", "Scalar", _backward("""
        uses, frontier, nodes = {}, [self], {id(self): self}
        while frontier:  # count how often each node is an input to another
            node = frontier.pop()
            for parent, _ in node.parents:
                uses[id(parent)] = uses.get(id(parent), 0) + 1
                if id(parent) not in nodes:
                    nodes[id(parent)] = parent
                    frontier.append(parent)
        self.grad = 1.0
        ready = [self]
        while ready:  # a node is passed on once every node using it has been
            node = ready.pop()
            for parent, local in node.parents:
                parent.grad += local * node.grad
                uses[id(parent)] -= 1
                if uses[id(parent)] == 0:
                    ready.append(parent)
    """)),
    Variant("scalar_closures_like_micrograd", "Scalar", _src('''
        import math


        class Scalar:
            """A number with a gradient; each node keeps a closure that pushes its gradient back."""

            def __init__(self, value, parents=()):
                self.value = float(value)
                self.grad = 0.0
                self._inputs = [p for p, _ in parents]
                self._push = lambda: None

            @staticmethod
            def wrap(other):
                return other if isinstance(other, Scalar) else Scalar(other)

            def _node(self, value, inputs, locals_):
                out = Scalar(value)
                out._inputs = list(inputs)

                def push():
                    for node, local in zip(inputs, locals_):
                        node.grad += local * out.grad
                out._push = push
                return out

            def __add__(self, other):
                other = Scalar.wrap(other)
                return self._node(self.value + other.value, (self, other), (1.0, 1.0))

            def __mul__(self, other):
                other = Scalar.wrap(other)
                return self._node(self.value * other.value, (self, other), (other.value, self.value))

            def __pow__(self, k):
                return self._node(self.value ** k, (self,), (k * self.value ** (k - 1),))

            def __neg__(self):
                return self * -1.0

            def __sub__(self, other):
                return self + (-Scalar.wrap(other))

            def __truediv__(self, other):
                return self * Scalar.wrap(other) ** -1

            def __radd__(self, other):
                return self + other

            def __rmul__(self, other):
                return self * other

            def __rsub__(self, other):
                return Scalar.wrap(other) - self

            def __rtruediv__(self, other):
                return Scalar.wrap(other) / self

            def exp(self):
                e = math.exp(self.value)
                return self._node(e, (self,), (e,))

            def log(self):
                return self._node(math.log(self.value), (self,), (1.0 / self.value,))

            def tanh(self):
                t = math.tanh(self.value)
                return self._node(t, (self,), (1.0 - t * t,))

            def relu(self):
                return self._node(max(self.value, 0.0), (self,), (float(self.value > 0),))

            def backward(self):
                order, seen, todo = [], set(), [(self, 0)]
                while todo:  # iterative depth-first search, one input at a time
                    node, next_input = todo.pop()
                    if next_input == 0:
                        if id(node) in seen:
                            continue
                        seen.add(id(node))
                    if next_input < len(node._inputs):
                        todo.append((node, next_input + 1))
                        todo.append((node._inputs[next_input], 0))
                    else:
                        order.append(node)
                self.grad = 1.0
                for node in reversed(order):
                    node._push()
    ''')),
]
