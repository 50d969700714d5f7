"""Slider latency in the browser: from a slider move to the new picture on the page.

Two plots of lesson 01's fit, side by side in one notebook and one kernel: the old way (a
new figure and PNG per value) and ``descentlab.live_picture.LivePicture`` (what lesson 01
uses now). The test moves each slider with the arrow key a number of times, times each
move in the page (``performance.now()`` at the key press to the ``<img>``'s new ``src``),
and PRINTS the medians and their ratio: a benchmark figure for the report, not a timed
assertion. It asserts only that every move produced a new picture.
"""
from __future__ import annotations

import statistics

from playwright.sync_api import expect

from labdriver import code_cell, own_workspace, problems, run_cell, write_notebook

SETUP = '''
import io
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from descentlab.live_picture import LivePicture

rng = np.random.default_rng(0)
x = np.linspace(-1, 1, 30)
y = 2.0 * x + 1.0 + rng.normal(scale=0.3, size=x.size)
'''
OLD = '''
def fit_picture(w):
    fig, ax = plt.subplots()
    ax.scatter(x, y, s=12, label="data")
    ax.plot(x, w * x, color="tab:orange", label=f"w = {w:.2f}")
    ax.vlines(x, y, w * x, colors="grey", linewidth=0.6)
    ax.set_title(f"MSE = {np.mean((w * x - y) ** 2):.3f}")
    ax.legend(loc="upper left")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()

old_slider = widgets.FloatSlider(value=0.5, min=-1, max=5, step=0.05, description="w")
old_picture = widgets.Image(value=fit_picture(0.5), format="png")
old_slider.observe(lambda change: setattr(old_picture, "value", fit_picture(change["new"])), names="value")
widgets.VBox([old_slider, old_picture])
'''
NEW = '''
fig, ax = plt.subplots()
ax.scatter(x, y, s=12, label="data")
(line,) = ax.plot(x, 0.5 * x, color="tab:orange", label="your line")
gaps = ax.vlines(x, y, 0.5 * x, colors="grey", linewidth=0.6)
title = ax.set_title("")
ax.set_ylim(-7.5, 9.5)
ax.legend(loc="upper left")

def show(w):
    line.set_ydata(w * x)
    gaps.set_segments([[(xi, yi), (xi, gi)] for xi, yi, gi in zip(x, y, w * x)])
    title.set_text(f"w = {w:.2f}: MSE = {np.mean((w * x - y) ** 2):.3f}")

LivePicture(fig, show, moving=[line, gaps, title],
            w=widgets.FloatSlider(value=0.5, min=-1, max=5, step=0.05, description="w"))
'''
MOVES = 8

TIME_ONE_MOVE = """async ([cell, key]) => {
    const img = cell.querySelector('.jp-OutputArea-output img');
    const handle = cell.querySelector('.noUi-handle');
    const before = img.src;
    handle.focus();
    const changed = new Promise(resolve => {
        const seen = new MutationObserver(() => {
            if (img.src !== before) { seen.disconnect(); resolve(performance.now()); }
        });
        seen.observe(img, {attributes: true, attributeFilter: ['src']});
    });
    const start = performance.now();
    handle.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true}));
    const timeout = new Promise(resolve => setTimeout(() => resolve(null), 15000));
    const end = await Promise.race([changed, timeout]);
    return end === null ? null : end - start;
}"""


def latencies(page, cell) -> list[float]:
    expect(cell.locator(".jp-OutputArea-output img")).to_be_visible()
    expect(cell.locator(".noUi-handle")).to_be_visible()
    handle = cell.element_handle()
    times = []
    for _ in range(MOVES):
        ms = page.evaluate(TIME_ONE_MOVE, [handle, "ArrowRight"])
        assert ms is not None, "a slider move produced no new picture within 15 s"
        times.append(ms)
        page.wait_for_timeout(150)  # let the kernel go idle between moves (nothing else to wait on)
    return times


def test_slider_move_to_new_picture_latency(lab_page):
    page = lab_page.page
    folder = own_workspace(lab_page.server.workspace, "e2e_slider")
    write_notebook(folder / "sliders.ipynb", [SETUP.strip(), OLD.strip(), NEW.strip()])
    lab_page.open("e2e_slider/sliders.ipynb")
    for i in range(3):
        run_cell(page, code_cell(page, i))
    old = latencies(page, code_cell(page, 1))
    new = latencies(page, code_cell(page, 2))
    old_ms, new_ms = statistics.median(old), statistics.median(new)
    print(f"\nslider move -> new picture in the browser, median of {MOVES} moves:"
          f"\n  new figure per value (old lessons): {old_ms:7.1f} ms  (all: {', '.join(f'{t:.0f}' for t in old)})"
          f"\n  LivePicture (lesson 01 now):       {new_ms:7.1f} ms  (all: {', '.join(f'{t:.0f}' for t in new)})"
          f"\n  ratio old/new: {old_ms / new_ms:.1f}x")
    assert not problems(page), "\n".join(map(str, problems(page)))
