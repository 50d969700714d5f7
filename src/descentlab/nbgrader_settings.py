"""nbgrader settings shared by the instructor's course config and a learner's workspace."""
from __future__ import annotations

# nbgrader scores a test cell 0 when it printed anything to stderr, so a warning from
# correct code would cost points. The grading and validation kernels therefore send stderr
# to stdout; failing tests still fail because they raise, and errors are what count.
EXECUTE_EXTRA_ARGUMENTS = ["--IPKernelApp.exec_lines=import sys; sys.stderr = sys.stdout"]

LEARNER_CONFIG = f'''"""nbgrader settings for this learner workspace (written by `descentlab start`).

JupyterLab's Validate button reads this file from the folder the server started in.
"""
from descentlab.validation import ValidateMessages

c = get_config()  # noqa: F821
c.Execute.extra_arguments = {EXECUTE_EXTRA_ARGUMENTS!r}
# Short messages and a closing summary in the Validate dialog (see descentlab.validation).
_messages = ValidateMessages()
c.Execute.on_cell_start = _messages.cell_started
c.Execute.on_cell_error = _messages.cell_failed
# Encrypted kernel sockets: no "running over TCP without encryption" warning.
c.KernelManager.transport_encryption = "auto"
'''
