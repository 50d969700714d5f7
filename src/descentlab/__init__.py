"""descentlab: a self-grading JupyterLab course on how machine-learning models learn."""

__version__ = "0.1.0"
