"""descentlab: a self-grading JupyterLab course on how machine-learning models learn.

``from descentlab import Quiz, Flashcards`` loads the widgets on first use only, so
``import descentlab`` (which the CLI and every exercise's test cells do) stays light.
"""

__version__ = "0.1.0"

_LAZY = {
    "Quiz": ("descentlab.quiz", "Quiz"),
    "Flashcards": ("descentlab.flashcards", "Flashcards"),
    "load_glossary": ("descentlab.glossary", "load_glossary"),
    "load_quiz": ("descentlab.quiz_bank", "load_quiz"),
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'descentlab' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
