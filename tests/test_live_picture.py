"""LivePicture: one kept figure, redrawn into a PNG when a control moves."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from descentlab.live_picture import LivePicture  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def make(moving: bool):
    """A LivePicture that redraws at once on every move (throttle 0): coalescing needs a
    running event loop, which a test process may or may not have (Playwright's sync API
    leaves one behind); the browser test measures the coalesced path."""
    x = np.linspace(0, 1, 10)
    fig, ax = plt.subplots()
    ax.plot(x, x, color="0.7")
    (line,) = ax.plot(x, x)
    title = ax.set_title("")
    ax.set_ylim(-5, 5)

    def update(slope):
        line.set_ydata(slope * x)
        title.set_text(f"slope {slope:.1f}")

    slider = widgets.FloatSlider(value=1.0, min=-4, max=4)
    return LivePicture(fig, update, moving=[line, title] if moving else (), throttle=0, slope=slider), fig


def test_one_figure_redrawn_on_every_move_with_or_without_blitting():
    for moving in (False, True):
        live, fig = make(moving)
        first = bytes(live.picture.value)
        assert first.startswith(PNG) and live.redraws == 1
        live.controls["slope"].value = -3.0
        assert live.redraws == 2 and bytes(live.picture.value).startswith(PNG) and live.picture.value != first
        live.controls["slope"].value = 1.0
        assert bytes(live.picture.value) == first  # the same values draw the same picture
        assert live.fig is fig and not plt.get_fignums()  # kept by the widget, not by pyplot


def test_blitted_frames_equal_full_redraws():
    """The kept background plus the moving artists is the picture a full draw makes."""
    from PIL import Image
    import io

    full, _ = make(False)
    blit, _ = make(True)
    for value in (-2.0, 0.5, 3.5):
        full.controls["slope"].value = value
        blit.controls["slope"].value = value
        a = np.asarray(Image.open(io.BytesIO(bytes(full.picture.value))).convert("RGB"), dtype=int)
        b = np.asarray(Image.open(io.BytesIO(bytes(blit.picture.value))).convert("RGB"), dtype=int)
        assert a.shape == b.shape
        assert np.mean(np.abs(a - b) > 40) < 0.002  # anti-aliasing may differ by a few pixels
