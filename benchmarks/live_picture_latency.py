"""Time per slider redraw of lesson 01's fit plot: a new figure per value (the old way)
against descentlab.live_picture (one figure, artists updated, small PNG).

Run: .venv/bin/python benchmarks/live_picture_latency.py
Prints milliseconds per redraw for both and their ratio, measured in this process.
"""
from __future__ import annotations

import io
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import ipywidgets as widgets  # noqa: E402

from descentlab.live_picture import LivePicture  # noqa: E402

rng = np.random.default_rng(0)
x = np.linspace(-1, 1, 30)
y = 2.0 * x + 1.0 + rng.normal(scale=0.3, size=x.size)
VALUES = np.linspace(-1, 5, 40)


def old_picture(w: float, b: float) -> bytes:
    fig, ax = plt.subplots()
    ax.scatter(x, y, s=12, label="data")
    ax.plot(x, w * x + b, color="tab:orange", label=f"ŷ = {w:.2f}x + {b:.2f}")
    ax.vlines(x, y, w * x + b, colors="grey", linewidth=0.6)
    ax.set_title(f"MSE = {np.mean((w * x + b - y) ** 2):.3f}")
    ax.legend(loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def new_widget() -> LivePicture:
    fig, ax = plt.subplots()
    ax.scatter(x, y, s=12, label="data")
    (line,) = ax.plot(x, 0.5 * x, color="tab:orange", label="your line")
    gaps = ax.vlines(x, y, 0.5 * x, colors="grey", linewidth=0.6)
    title = ax.set_title("")
    ax.set_ylim(-7.5, 9.5)
    ax.legend(loc="upper left")

    def show(w, b):
        guess = w * x + b
        line.set_ydata(guess)
        gaps.set_segments([[(xi, yi), (xi, gi)] for xi, yi, gi in zip(x, y, guess)])
        title.set_text(f"ŷ = {w:.2f}x + {b:.2f}: MSE = {np.mean((guess - y) ** 2):.3f}")

    return LivePicture(fig, show, moving=[line, gaps, title], throttle=0,
                       w=widgets.FloatSlider(value=0.5, min=-1, max=5, step=0.05),
                       b=widgets.FloatSlider(value=0.0, min=-2, max=4, step=0.05))


def per_redraw(action) -> float:
    action(VALUES[0])  # warm-up: fonts, caches
    start = time.perf_counter()
    for value in VALUES:
        action(value)
    return (time.perf_counter() - start) / len(VALUES) * 1000


def main() -> None:
    widget = new_widget()
    old = per_redraw(lambda w: old_picture(w, 0.0))
    new = per_redraw(lambda w: setattr(widget.controls["w"], "value", float(w)))
    print(f"new figure per value (old lessons): {old:6.1f} ms per redraw")
    print(f"LivePicture (one figure, updated):  {new:6.1f} ms per redraw")
    print(f"speed-up: {old / new:.1f}x ({widget.redraws} redraws of the live picture)")


if __name__ == "__main__":
    main()
