"""`descentlab instructor`: JupyterLab for the instructor, with nbgrader's formgrader on.

`make lab` hides nbgrader's instructor tools at the venv's own (sys-prefix) level, so the
learner sees only the Validate button. The instructor's JupyterLab must not undo that, so
it never touches the venv's settings: it gets a Jupyter configuration folder of its own
(first on ``JUPYTER_CONFIG_PATH``, the highest-priority level, kept in the venv under
``etc/descentlab-instructor/``) that turns the formgrader server extension and nbgrader's
instructor plugins back on for this one server, started in the course repository root
where formgrader finds ``nbgrader_config.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .atomicfile import write_json
from .course import find_course

# Kept in step with the Makefile's INSTRUCTOR_LAB_PLUGINS / INSTRUCTOR_SERVER_EXTENSIONS.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
)
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader",)


def config_dir() -> Path:
    """The instructor's own Jupyter configuration folder, inside the running venv."""
    return Path(sys.prefix) / "etc" / "descentlab-instructor"


def write_config(folder: Path) -> Path:
    """The configuration that re-enables the instructor's tools at the user level."""
    write_json(folder / "jupyter_server_config.json", {
        "ServerApp": {"jpserver_extensions": dict.fromkeys(INSTRUCTOR_SERVER_EXTENSIONS, True)},
    })
    write_json(folder / "labconfig" / "page_config.json", {
        "disabledExtensions": dict.fromkeys(INSTRUCTOR_LAB_PLUGINS, False),
        "lockedExtensions": dict.fromkeys(INSTRUCTOR_LAB_PLUGINS, False),
    })
    news = folder / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    if not news.exists():
        write_json(news, {"fetchNews": "false", "checkForUpdates": False})
    return folder


def environment(folder: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's) with ``folder`` as the first, highest-priority
    configuration path. JUPYTER_CONFIG_PATH outranks both the user and the venv levels
    (inside a venv jupyter_core ranks the venv above the user's JUPYTER_CONFIG_DIR)."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(folder), *filter(None, [env.get("JUPYTER_CONFIG_PATH")])])
    env["JUPYTER_CONFIG_DIR"] = str(folder)
    env["JUPYTERLAB_SETTINGS_DIR"] = str(folder / "lab" / "user-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(folder / "lab" / "workspaces")
    return env


def lab_command(root: Path, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")
    return command


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "instructor",
        help="start JupyterLab with nbgrader's formgrader, in the course repository",
        description="Start JupyterLab in the course repository root with nbgrader's formgrader "
        "and instructor tools on (Nbgrader menu, Create Assignment, Formgrader), without "
        "changing the learner's view that `make lab` sets up.",
    )
    parser.add_argument("--port", type=int, default=None, help="port for JupyterLab (default: its own choice)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.add_argument("--print-config", action="store_true",
                        help="write the instructor's Jupyter configuration and print where; do not start")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(Path.cwd())
    course.require_checkout("descentlab instructor")
    folder = write_config(config_dir())
    if args.print_config:
        print(json.dumps({"JUPYTER_CONFIG_DIR": str(folder), "root_dir": str(course.root)}))
        return 0
    extra = [f"--ServerApp.port={args.port}"] if args.port else []
    if args.no_browser:
        extra.append("--no-browser")
    command = lab_command(course.root, extra)
    print(f"instructor JupyterLab in {course.root} (Jupyter configuration: {folder}); "
          "open the Formgrader from the Nbgrader menu")
    os.chdir(course.root)
    os.execve(command[0], command, environment(folder))
    return 0  # not reached
