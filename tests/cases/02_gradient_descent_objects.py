"""Exercise 02's Adam optimizer class: wrong answers and correct variants.

Each wrong answer is a whole Adam class with ONE mistake a learner might make (no bias
correction, the step counter advanced too late, epsilon under the square root, state shared
between parameters or between optimizers, inputs changed in place...); it must lose points
on test_Adam and nowhere else. The correct variants keep their state differently (running
powers of the betas, one stacked array per parameter) or use the paper's rearranged update,
and must score full marks.
"""
from __future__ import annotations

from grading_support import Variant, Wrong
from grading_support import dedent_source as _src

_INIT = '''
class Adam:
    """Adam with bias correction (see the exercise)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.t = 0
        self.m, self.s = {}, {}
'''


def _adam(step_body: str, init: str = _INIT) -> str:
    """An Adam class with the reference constructor and ``step_body`` as its step method."""
    import textwrap

    return _src(init) + "\n\n    def step(self, params, grads):\n" + textwrap.indent(_src(step_body), " " * 8)


WRONG = [
    Wrong("adam_without_bias_correction", "Adam", _adam("""
        self.t += 1
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            self.m[k] = self.beta1 * self.m.get(k, 0.0) + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s.get(k, 0.0) + (1 - self.beta2) * g * g
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * self.m[k] / (np.sqrt(self.s[k]) + self.eps)
        return out
    """)),
    Wrong("adam_counts_the_step_after_correcting", "Adam", _adam("""
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            self.m[k] = self.beta1 * self.m.get(k, 0.0) + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s.get(k, 0.0) + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1 ** (self.t + 1e-12))
            s_hat = self.s[k] / (1 - self.beta2 ** (self.t + 1e-12))
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * m_hat / (np.sqrt(s_hat) + self.eps)
        self.t += 1
        return out
    """)),
    Wrong("adam_eps_under_the_square_root", "Adam", _adam("""
        self.t += 1
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            self.m[k] = self.beta1 * self.m.get(k, 0.0) + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s.get(k, 0.0) + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            s_hat = self.s[k] / (1 - self.beta2 ** self.t)
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * m_hat / np.sqrt(s_hat + self.eps)
        return out
    """)),
    Wrong("adam_second_moment_of_g_not_g_squared", "Adam", _adam("""
        self.t += 1
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            self.m[k] = self.beta1 * self.m.get(k, 0.0) + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s.get(k, 0.0) + (1 - self.beta2) * np.abs(g)
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            s_hat = self.s[k] / (1 - self.beta2 ** self.t)
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * m_hat / (np.sqrt(s_hat) + self.eps)
        return out
    """)),
    Wrong("adam_changes_params_in_place", "Adam", _adam("""
        self.t += 1
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            self.m[k] = self.beta1 * self.m.get(k, 0.0) + (1 - self.beta1) * g
            self.s[k] = self.beta2 * self.s.get(k, 0.0) + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1 ** self.t)
            s_hat = self.s[k] / (1 - self.beta2 ** self.t)
            w -= self.learning_rate * m_hat / (np.sqrt(s_hat) + self.eps)
        return params
    """)),
    Wrong("adam_one_state_for_every_parameter", "Adam", _adam("""
        self.t += 1
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            self.m = self.beta1 * (self.m if not isinstance(self.m, dict) else 0.0) + (1 - self.beta1) * g.mean()
            self.s = self.beta2 * (self.s if not isinstance(self.s, dict) else 0.0) + (1 - self.beta2) * (g * g).mean()
            m_hat = self.m / (1 - self.beta1 ** self.t)
            s_hat = self.s / (1 - self.beta2 ** self.t)
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * m_hat / (np.sqrt(s_hat) + self.eps)
        return out
    """)),
    Wrong("adam_state_shared_by_every_optimizer", "Adam", _adam("""
        Adam.t = getattr(Adam, "t", 0) + 1
        self.t = Adam.t
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            Adam.m[k] = self.beta1 * Adam.m.get(k, 0.0) + (1 - self.beta1) * g
            Adam.s[k] = self.beta2 * Adam.s.get(k, 0.0) + (1 - self.beta2) * g * g
            m_hat = Adam.m[k] / (1 - self.beta1 ** self.t)
            s_hat = Adam.s[k] / (1 - self.beta2 ** self.t)
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * m_hat / (np.sqrt(s_hat) + self.eps)
        return out
    """, init=_INIT.replace("        self.t = 0\n        self.m, self.s = {}, {}\n", "").replace(
        '    """Adam with bias correction (see the exercise)."""\n',
        '    """Adam with bias correction (see the exercise)."""\n\n    m, s = {}, {}\n'))),
    Wrong("adam_forgets_its_state_every_step", "Adam", _adam("""
        self.t += 1
        out = {}
        for k, w in params.items():
            g = np.asarray(grads[k], dtype=float)
            m = (1 - self.beta1) * g
            s = (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1 ** self.t)
            s_hat = s / (1 - self.beta2 ** self.t)
            out[k] = np.asarray(w, dtype=float) - self.learning_rate * m_hat / (np.sqrt(s_hat) + self.eps)
        return out
    """)),
]

CORRECT = [
    Variant("adam_running_powers_of_the_betas", "Adam", _src('''
        class Adam:
            """Adam keeping beta1 ** t and beta2 ** t as running products."""

            def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
                self.t, self.power1, self.power2 = 0, 1.0, 1.0
                self.state = {}

            def step(self, params, grads):
                self.t += 1
                self.power1 *= self.beta1
                self.power2 *= self.beta2
                result = {}
                for name in params:
                    w = np.array(params[name], dtype=float)
                    g = np.asarray(grads[name], dtype=float)
                    m, s = self.state.get(name, (np.zeros_like(w), np.zeros_like(w)))
                    m = self.beta1 * m + (1 - self.beta1) * g
                    s = self.beta2 * s + (1 - self.beta2) * np.square(g)
                    self.state[name] = (m, s)
                    w -= self.learning_rate * (m / (1 - self.power1)) / (np.sqrt(s / (1 - self.power2)) + self.eps)
                    result[name] = w
                return result
    ''')),
    Variant("adam_one_stacked_array_per_parameter", "Adam", _src('''
        class Adam:
            """Adam storing m and s of each parameter stacked in one array of shape (2, *w.shape)."""

            def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                self.hyper = dict(lr=learning_rate, b1=beta1, b2=beta2, eps=eps)
                self.t = 0
                self.moments = {}

            def step(self, params, grads):
                lr, b1, b2, eps = (self.hyper[k] for k in ("lr", "b1", "b2", "eps"))
                self.t += 1
                new = {}
                for name, w in params.items():
                    w = np.asarray(w, dtype=float)
                    g = np.asarray(grads[name], dtype=float)
                    both = self.moments.setdefault(name, np.zeros((2,) + w.shape))
                    both[0] = b1 * both[0] + (1 - b1) * g
                    both[1] = b2 * both[1] + (1 - b2) * g ** 2
                    m_hat, s_hat = both[0] / (1 - b1 ** self.t), both[1] / (1 - b2 ** self.t)
                    new[name] = w - lr * m_hat / (np.sqrt(s_hat) + eps)
                return new
    ''')),
    Variant("adam_rearranged_step_size", "Adam", _src('''
        class Adam:
            """Adam with the bias corrections folded into the step size (Kingma and Ba, section 2):
            lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(s) + eps * sqrt(1 - b2^t)) is the same update."""

            def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
                self.t = 0
                self.m, self.s = {}, {}

            def step(self, params, grads):
                self.t += 1
                root = np.sqrt(1 - self.beta2 ** self.t)
                size = self.learning_rate * root / (1 - self.beta1 ** self.t)
                out = {}
                for name in params:
                    g = np.asarray(grads[name], dtype=float)
                    self.m[name] = self.beta1 * self.m.get(name, 0) + (1 - self.beta1) * g
                    self.s[name] = self.beta2 * self.s.get(name, 0) + (1 - self.beta2) * g * g
                    out[name] = np.asarray(params[name], dtype=float) - size * self.m[name] / (
                        np.sqrt(self.s[name]) + self.eps * root)
                return out
    ''')),
    # The step counter kept another way: an int is promised, and a 1-element array or a whole
    # float counts as one (descentlab.expect.as_int).
    Variant("adam_counts_steps_in_a_one_element_array", "Adam", _src('''
        class Adam:
            """Adam whose step counter t is a 1-element integer array, advanced in place."""

            def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
                self.t = np.zeros(1, dtype=int)
                self.m, self.s = {}, {}

            def step(self, params, grads):
                self.t += 1
                out = {}
                for name in params:
                    g = np.asarray(grads[name], dtype=float)
                    self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * g
                    self.s[name] = self.beta2 * self.s.get(name, 0.0) + (1 - self.beta2) * g * g
                    m_hat = self.m[name] / (1 - self.beta1 ** self.t[0])
                    s_hat = self.s[name] / (1 - self.beta2 ** self.t[0])
                    out[name] = np.asarray(params[name], dtype=float) - self.learning_rate * m_hat / (
                        np.sqrt(s_hat) + self.eps)
                return out
    ''')),
    Variant("adam_counts_steps_in_a_float", "Adam", _src('''
        class Adam:
            """Adam whose step counter is a float: t = 0.0, then t += 1.0 (1.0, 2.0, ... are whole)."""

            def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
                self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
                self.t = 0.0
                self.m, self.s = {}, {}

            def step(self, params, grads):
                self.t += 1.0
                out = {}
                for name in params:
                    w = np.asarray(params[name], dtype=float)
                    g = np.asarray(grads[name], dtype=float)
                    m = self.beta1 * self.m.get(name, np.zeros_like(w)) + (1 - self.beta1) * g
                    s = self.beta2 * self.s.get(name, np.zeros_like(w)) + (1 - self.beta2) * g ** 2
                    self.m[name], self.s[name] = m, s
                    out[name] = w - self.learning_rate * (m / (1 - self.beta1 ** self.t)) / (
                        np.sqrt(s / (1 - self.beta2 ** self.t)) + self.eps)
                return out
    ''')),
]
