"""A Jupyter server pre-save hook: a saved notebook never keeps dead widget views.

A widget's output in a notebook is only a pointer (``application/vnd.jupyter.widget-view+json``)
to a model that lives in the running kernel. After a page reload or a kernel restart, or
when a learner opens the lesson another day, the model is gone and JupyterLab shows "Error
displaying widget: model not found". :func:`strip_widget_views` runs on every save (the
server calls it with the notebook about to be written) and replaces each widget view with
a short plain-text line saying to run the cell again; the widget state JupyterLab may have
put into the notebook's metadata goes too. The quiz and flashcard progress is not in the
notebook at all (it is in the workspace's ``.descentlab/progress.json``), so running the cell
shows the widget with the learner's answers again.

``descentlab start`` and the e2e test server switch it on with
``--ContentsManager.pre_save_hook=descentlab.save_hook.strip_widget_views``.
"""
from __future__ import annotations

from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
HOOK = "descentlab.save_hook.strip_widget_views"
KINDS = (("Quiz(", "the quiz"), ("Flashcards(", "the flashcards"), ("GlossaryBrowser(", "the glossary"))


def placeholder(output: dict) -> str:
    """The line that stands in for one widget view."""
    text = output.get("data", {}).get("text/plain", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    what = next((name for prefix, name in KINDS if text.startswith(prefix)), "the widget")
    return f"Run this cell to show {what} again (your progress is saved in the workspace)."


def strip_notebook(notebook: dict) -> int:
    """Replace the widget views of a notebook (nbformat 4 JSON, edited in place); returns
    how many were replaced."""
    replaced = 0
    for cell in notebook.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data") if isinstance(output, dict) else None
            if isinstance(data, dict) and WIDGET_VIEW in data:
                output["data"] = {"text/plain": placeholder(output)}
                output["metadata"] = {}
                replaced += 1
    metadata = notebook.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("widgets", None)
    return replaced


def strip_widget_views(model: dict, **kwargs: Any) -> None:
    """The hook itself: ``ContentsManager.pre_save_hook`` calls it as
    ``hook(model=model, path=path, contents_manager=manager)``."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_notebook(model["content"])
