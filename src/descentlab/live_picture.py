"""A slider-driven plot that redraws fast: one figure kept alive, its artists updated.

The lessons' first interactive plots built a new matplotlib figure for every slider value,
rendered it to a PNG at full size and threw it away: 0.5-0.7 s from the slider's release to
the new picture in the browser. :class:`LivePicture` keeps one figure for the widget's
life; ``update(**values)`` only changes the data of the artists it drew (``set_ydata``,
``set_segments``, ``set_text``). When those artists are named (``moving=[line, title]``)
the rest of the figure (axes, ticks, labels, the data) is drawn once and kept as a bitmap,
and each frame only pastes it back and draws the moving artists on top (matplotlib's
blitting, here into the Agg buffer that becomes the PNG): about five times less work
per frame than a full draw. Slider moves are coalesced: a change schedules one redraw a short
``throttle`` later on the kernel's event loop, and changes that arrive meanwhile only
replace the values it will draw, so a fast drag never queues up renders behind it.

``benchmarks/live_picture_latency.py`` prints the time per redraw against the old way in
the same process; ``tests/e2e/test_e2e_slider_latency.py`` prints the latency from a
slider move to the new image in the browser.
"""
from __future__ import annotations

import io
from typing import Callable, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

THROTTLE = 0.03  # seconds between redraws while a slider is dragged


def render_png(fig: Figure) -> bytes:
    """The whole figure as PNG bytes at its own dpi."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def canvas_png(fig: Figure) -> bytes:
    """The Agg canvas as it is now (after blitting) as PNG bytes."""
    from PIL import Image

    width, height = fig.canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    return buffer.getvalue()


def _event_loop():
    """The kernel's running asyncio loop, or None (plain Python, nbclient without comms)."""
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return None
        return loop if loop.is_running() else None


class LivePicture(widgets.VBox):
    """Controls above a PNG of ``fig``; ``update(**values)`` edits the figure's artists."""

    def __init__(self, fig: Figure, update: Callable[..., None], *, moving: Sequence[Artist] = (),
                 dpi: int = 72, throttle: float = THROTTLE, **controls: widgets.ValueWidget):
        super().__init__()
        plt.close(fig)  # ours now: the inline backend must not show it a second time
        fig.set_dpi(dpi)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)  # blitting needs Agg's buffer, whatever the notebook's backend
        self.fig, self._update, self.throttle = fig, update, throttle
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)  # left out of full draws: the kept background
        self._background = None
        self.controls = controls
        self.picture = widgets.Image(format="png")
        self.picture.add_class("dl-live-picture")
        self.redraws = 0
        self._scheduled = False
        for control in controls.values():
            control.observe(self._changed, names="value")
        self.children = [*controls.values(), self.picture]
        self.add_class("dl-live")
        self.redraw()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self) -> None:
        self._scheduled = False
        self._update(**self.values())
        if not self.moving:
            self.picture.value = render_png(self.fig)
        else:
            canvas = self.fig.canvas
            if self._background is None:
                canvas.draw()
                self._background = canvas.copy_from_bbox(self.fig.bbox)
            canvas.restore_region(self._background)
            for artist in self.moving:
                self.fig.draw_artist(artist)
            self.picture.value = canvas_png(self.fig)
        self.redraws += 1

    def _changed(self, change) -> None:
        loop = _event_loop()
        if loop is None or self.throttle <= 0:
            self.redraw()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_later(self.throttle, self.redraw)
