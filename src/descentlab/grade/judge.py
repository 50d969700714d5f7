"""The judge: runs the course's own test cells, outside the sandbox, against proxies.

For one learner notebook the judge
1. builds the program from the trusted SOURCE notebook in solutions/ (setup cells, test
   cells with their hidden tests) and only the learner's answer cells (matched by grade_id)
   plus any cells the learner added;
2. starts a fresh sandboxed runner and sends it the learner's files, then, cell by cell in
   notebook order, the setup and answer cells to execute there;
3. executes each test cell itself, in a fresh namespace where the setup cell ran from the
   source and every learner function is a ``Proxy``: calling it sends the plain-data
   arguments to the sandbox and returns the plain-data result (or re-raises the learner's
   exception). The score of a test cell is nbgrader's rule on the outcome: an error scores
   0, a numeric last expression is partial credit, otherwise full points.

No learner code ever runs in the judge's process, and nothing the sandbox sends can be more
than plain data, so no learner code can decide a verdict.
"""
from __future__ import annotations

import ast
import builtins
import io
import os
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..notebook import learner_message
from .memory import TracemallocShim
from .program import Cell, build_program
from .sandbox import Limits, start_unconfined
from .verdict import CellVerdict, Event, NotebookVerdict
from .zygote import Zygote, ZygoteError, shared
from .wire import Channel, ChannelClosed, ChannelTimeout, NotPlainData, WireError, decode, describe_type, encode

MAX_RESTARTS = 3
START_TIMEOUT = 60.0


class SandboxLost(Exception):
    """The learner's process died, timed out or broke the protocol during this call."""


class LearnerError(Exception):
    """An exception raised by learner code whose type is not a builtin one."""


@dataclass(frozen=True)
class JudgeConfig:
    """How one submission's notebooks are judged: where learner code runs and for how long."""

    mode: str  # "bwrap" | "none" (unconfined, see sandbox.probe)
    limits: Limits
    protected: tuple[Path, ...]  # folders never mounted into the sandbox
    call_timeout: float  # seconds for one cell or one call of a learner function
    deadline: float  # time.monotonic() when the whole submission must be done
    fallback_workdir: str | None = None  # the unconfined runner's working folder


def _exception_from(reply: dict) -> Exception:
    """Rebuild the learner's exception as the same builtin type (NotImplementedError stays
    NotImplementedError) or as a LearnerError naming the original type."""
    name = str(reply.get("type", "Exception"))
    message = str(reply.get("message", ""))
    module = str(reply.get("module", ""))
    kind = getattr(builtins, name, None) if module == "builtins" else None
    if module.startswith("numpy"):
        import numpy.linalg

        kind = {"LinAlgError": numpy.linalg.LinAlgError}.get(name)
    if isinstance(kind, type) and issubclass(kind, Exception) and not issubclass(kind, (SandboxLost,)):
        try:
            return kind(message)
        except Exception:  # noqa: BLE001 - exceptions with special signatures
            pass
    label = name if module in ("", "builtins", "__main__") else f"{module}.{name}"
    return LearnerError(f"{label}: {message}")


class Session:
    """One sandboxed runner process and the channel to it."""

    def __init__(self, judge: "Judge"):
        self.judge = judge
        if judge.config.mode == "bwrap":
            try:
                self.process = judge.zygote().spawn(judge.config.limits)
            except ZygoteError as exc:
                raise OSError(str(exc)) from None
        else:
            self.process = start_unconfined(judge.config.limits, judge.config.fallback_workdir)
        self.channel = Channel(self.process.stdout.fileno(), self.process.stdin.fileno())
        os.set_blocking(self.process.stdout.fileno(), False)
        os.set_blocking(self.process.stdin.fileno(), False)
        self.next_id = 0
        self.alive = True
        try:
            hello = self.channel.recv(time.monotonic() + START_TIMEOUT)
            if hello.get("op") != "ready":
                raise WireError("the runner did not start")
        except (WireError, OSError):
            self.kill()
            raise

    def request(self, message: dict, timeout: float) -> dict:
        """Send ``message`` and serve callbacks until its answer arrives."""
        self.next_id += 1
        ident = self.next_id
        message["id"] = ident
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            self.channel.send(message, deadline)
            while True:
                reply = self.channel.recv(deadline)
                if reply.get("op") == "callback":
                    self.serve_callback(reply)
                    continue
                if reply.get("id") != ident:
                    raise WireError("an answer to a question that was not asked")
                return reply
        except ChannelTimeout:
            self.kill()
            raise
        except (ChannelClosed, WireError, OSError):
            self.kill()
            raise

    def serve_callback(self, message: dict) -> None:
        ident = message.get("id")
        try:
            function = self.judge.callbacks[message["cb"]]
            args = decode(message.get("args"))
            kwargs = decode(message.get("kwargs"))
            if type(args) is not tuple or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise WireError("bad callback arguments")
        except (KeyError, TypeError, WireError) as exc:
            raise WireError(f"bad callback request: {exc}") from None
        try:
            value = function(*args, **kwargs)
            reply = {"op": "return", "id": ident, "value": encode(value, self.judge.handle)}
        except SandboxLost:
            raise
        except Exception as exc:  # noqa: BLE001 - passed back to the learner's code
            reply = {"op": "raise", "id": ident, "type": type(exc).__name__, "message": str(exc)[:2000]}
        self.channel.send(reply, time.monotonic() + self.judge.timeout_left())

    def kill(self) -> None:
        if not self.alive:
            return
        self.alive = False
        try:
            self.process.kill()
        except OSError:
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        if self.alive:
            try:
                self.channel.send({"op": "exit"}, time.monotonic() + 1.0)
            except (WireError, OSError):
                pass
            try:
                self.process.wait(timeout=2)
            except Exception:  # noqa: BLE001
                pass
            self.kill()

    def exit_description(self) -> str:
        limit = getattr(self.process, "limit_hit", None)
        if limit == "memory":
            return (f"was stopped: all its processes together used more than {self.judge.limits.memory_mb} MB "
                    "(the memory limit)")
        if limit == "cpu":
            return (f"was stopped: all its processes together used more than {self.judge.limits.cpu_seconds} s "
                    "of CPU time (the CPU-time limit)")
        signum = self.signal_number()
        if signum is not None:
            import signal

            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            hint = {
                "SIGXCPU": " (over the CPU-time limit)",
                "SIGXFSZ": " (wrote a file over the size limit)",
                "SIGSEGV": " (a crash in native code, or out of memory)",
            }.get(name, "")
            return f"was killed by {name}{hint}"
        code = self.process.poll()
        return "stopped" if code is None else f"exited with status {code}"

    def signal_number(self) -> int | None:
        """The signal that ended the runner (bwrap reports it as 128 + signal)."""
        code = self.process.poll()
        if code is None:
            return None
        if code < 0:
            return -code
        return None


class Proxy:
    """Stands in the judge's namespace for a learner function that lives in the sandbox."""

    __slots__ = ("_judge", "_name", "__name__", "__qualname__")

    def __init__(self, judge: "Judge", name: str):
        self._judge = judge
        self._name = name
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._judge.call(self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<learner function {self._name}>"


def nbgrader_score(points: float, error: BaseException | None, last_value: Any) -> float:
    """nbgrader's determine_grade on the cell's outcome: an error scores 0; a last
    expression whose text is a number from 0 to the points is partial credit; anything
    else scores full points."""
    if error is not None:
        return 0.0
    if last_value is None:
        return points
    try:
        value = float(repr(last_value))
    except (ValueError, TypeError):
        return points
    if value >= 0.0:
        return min(value, points)
    return points


class Judge:
    def __init__(self, config: JudgeConfig):
        self.config = config
        self.mode = config.mode
        self.limits = config.limits
        self.call_timeout = config.call_timeout
        self.deadline = config.deadline
        self.session: Session | None = None
        self.callbacks: dict[int, Any] = {}
        self.restarts = 0
        self.events: list[Event] = []
        self.files: list[tuple[str, bytes]] = []
        self.ran: list[Cell] = []  # learner-side cells run so far (replayed after a restart)
        self.poison: set[str] = set()  # labels of cells that killed the sandbox
        self.data_names: set[str] = set()  # learner data (not functions) copied into the namespace
        self.tracemalloc: TracemallocShim | None = None
        self._own_zygote: Zygote | None = None

    def zygote(self) -> Zygote:
        """The round's zygote, or one of this judge's own when none was started."""
        if shared() is not None:
            return shared()
        if self._own_zygote is None:
            self._own_zygote = Zygote.start(self.limits, list(self.config.protected))
        return self._own_zygote

    # -- arguments ------------------------------------------------------------------
    def handle(self, value: Any) -> dict:
        """How a non-data argument crosses: a proxy by name, any other callable as a
        callback that runs here."""
        if isinstance(value, Proxy):
            return {"$": "fn", "name": value._name}
        if callable(value):
            ident = len(self.callbacks) + 1
            self.callbacks[ident] = value
            return {"$": "cb", "id": ident}
        raise NotPlainData(f"{describe_type(value)} is not plain data")

    def timeout_left(self) -> float:
        return min(self.call_timeout, self.deadline - time.monotonic())

    # -- the sandbox ------------------------------------------------------------------
    def ensure_session(self) -> Session:
        if self.session is not None and self.session.alive:
            return self.session
        if self.session is not None:
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                raise SandboxLost(f"the learner's process failed {MAX_RESTARTS + 1} times; remaining tests not run")
        if self.deadline - time.monotonic() <= 0:
            raise SandboxLost("the time for this submission ran out")
        try:
            self.session = Session(self)
            self.session.request({"op": "files", "files": [[p, encode(b)] for p, b in self.files]}, START_TIMEOUT)
        except (WireError, OSError) as exc:
            if self.session is not None:
                self.session.kill()
            message = f"the sandbox could not start the learner's process: {type(exc).__name__}: {exc}"
            self.events.append(Event("crash", message))
            raise SandboxLost(message) from None
        for cell in self.ran:
            if cell.label not in self.poison:
                self._run_cell(cell, replay=True)
        return self.session

    def _lost(self, session: Session, what: str, exc: Exception, label: str | None) -> SandboxLost:
        if isinstance(exc, ChannelTimeout):
            limit = self.timeout_left()
            message = (f"{what} did not finish within {self.call_timeout:g} s (an infinite loop?); "
                       "it was stopped") if limit > 0 else f"{what}: the time for this submission ran out"
            self.events.append(Event("timeout", message))
        else:
            message = f"{what}: the learner's process {session.exit_description()}"
            if isinstance(exc, WireError) and not isinstance(exc, ChannelClosed):
                message += f" (protocol error: {exc})"

            self.events.append(Event("crash", message))
        if label is not None:
            self.poison.add(label)
        return SandboxLost(message)

    def _run_cell(self, cell: Cell, replay: bool = False) -> dict | None:
        session = self.session
        try:
            reply = session.request({"op": "run", "label": cell.label, "source": cell.source}, self.timeout_left())
        except (ChannelTimeout, ChannelClosed, WireError, OSError) as exc:
            raise self._lost(session, f"cell '{cell.label}'", exc, cell.label) from None
        if reply.get("op") != "ran":
            session.kill()
            raise self._lost(session, f"cell '{cell.label}'", WireError("unexpected answer"), cell.label)
        return reply

    def run_cell(self, cell: Cell, ns: dict, trusted: set[str], verdict: NotebookVerdict) -> None:
        """Run a setup/answer cell in the sandbox and refresh the proxies in ``ns``."""
        try:
            self.ensure_session()
            reply = self._run_cell(cell)
        except SandboxLost as exc:
            self.ran.append(cell)
            verdict.answer_errors.append(f"cell '{cell.label}': {exc}")
            return
        self.ran.append(cell)
        error = reply.get("error")
        if isinstance(error, dict):
            text = f"{error.get('type')}: {error.get('message')}"
            if error.get("where"):
                text += "\n" + str(error["where"])[:1000]
            if error.get("resource"):
                self.events.append(Event("resource", f"cell '{cell.label}' hit the {error['resource']} limit ({text})"))
            if cell.kind == "answer" or cell.kind == "added":
                verdict.answer_errors.append(f"cell '{cell.label}' raised {text}")
            else:
                verdict.answer_errors.append(f"read-only cell '{cell.label}' raised {text} in your notebook's context")
        if reply.get("output_dropped"):
            verdict.notes.append(
                f"cell '{cell.label}' printed more than {self.limits.output_chars} characters; the rest was discarded")
        self.refresh(ns, trusted, reply)

    def refresh(self, ns: dict, trusted: set[str], reply: dict) -> None:
        functions = reply.get("functions")
        data = reply.get("data")
        if not isinstance(functions, list) or not isinstance(data, dict):
            return
        allowed = lambda n: (isinstance(n, str) and n.isidentifier() and not n.startswith("_")  # noqa: E731
                             and n not in trusted and not hasattr(builtins, n))
        for name in [n for n, v in ns.items() if isinstance(v, Proxy) or n in self.data_names]:
            if name not in functions and name not in data:
                del ns[name]
        for name in functions:
            if allowed(name):
                ns[name] = Proxy(self, name)
        for name, tree in data.items():
            if allowed(name):
                try:
                    ns[name] = decode(tree)
                    self.data_names.add(name)
                except WireError:
                    continue


    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        shim = self.tracemalloc
        tracing = shim is not None and shim.pause()  # the wire's own copies must not count
        try:
            try:
                encoded_args = encode(tuple(args), self.handle)
                encoded_kwargs = encode(dict(kwargs), self.handle)
            except NotPlainData as exc:
                raise TypeError(f"cannot pass {exc} to {name} in the sandbox") from None
            session = self.ensure_session()
            if self.timeout_left() <= 0:
                self.events.append(Event("timeout", f"{name}(): the time for this submission ran out"))
                raise SandboxLost("the time for this submission ran out")
            try:
                reply = session.request(
                    {"op": "call", "name": name, "args": encoded_args, "kwargs": encoded_kwargs, "trace": tracing},
                    self.timeout_left())
            except (ChannelTimeout, ChannelClosed, WireError, OSError) as exc:
                raise self._lost(session, f"{name}()", exc, None) from None
            if reply.get("op") == "return":
                try:
                    value = decode(reply.get("value"))
                    self._write_back(args, kwargs, reply.get("mutated"))
                except WireError as exc:
                    session.kill()
                    raise self._lost(session, f"{name}()", exc, None) from None
                if tracing:
                    shim.add_call(reply.get("trace"))
                return value
        finally:
            if tracing:
                shim.resume()
        if reply.get("op") == "raise":
            if reply.get("resource"):
                self.events.append(Event(
                    "resource", f"{name}() hit the {reply['resource']} limit "
                    f"({reply.get('type')}: {str(reply.get('message'))[:200]})"))
            raise _exception_from(reply)
        session.kill()
        raise self._lost(session, f"{name}()", WireError("unexpected answer"), None)

    @staticmethod
    def _write_back(args: tuple, kwargs: dict, mutated: Any) -> None:
        """Make a learner's in-place change to an argument visible to the test, as it would
        be in one kernel (tests check that inputs are left alone)."""
        if not mutated:
            return
        if type(mutated) is not list:
            raise WireError("bad mutation list")
        for item in mutated:
            if type(item) is not list or len(item) != 2:
                raise WireError("bad mutation entry")
            key, tree = item
            if type(key) is int and 0 <= key < len(args):
                original = args[key]
            elif type(key) is str and key in kwargs:
                original = kwargs[key]
            else:
                raise WireError("bad mutation key")
            new = decode(tree)
            if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
                if original.shape == new.shape and original.flags.writeable:
                    np.copyto(original, new, casting="unsafe")
            elif type(original) is list and type(new) is list:
                original[:] = new
            elif type(original) is dict and type(new) is dict:
                original.clear()
                original.update(new)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        if self._own_zygote is not None:
            self._own_zygote.close()


# -- trusted cells -------------------------------------------------------------------

def _compile_trusted(source: str, label: str):
    """Compile a course cell (setup or test), keeping its last expression apart so its value
    can be scored like nbgrader's execute_result."""
    try:
        tree = ast.parse(source, filename=f"<{label}>")
    except SyntaxError:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
        tree = ast.parse(source, filename=f"<{label}>")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, f"<{label}>", "exec")
    return body, (compile(last, f"<{label}>", "eval") if last is not None else None)


def run_trusted(source: str, label: str, ns: dict) -> tuple[BaseException | None, Any]:
    body, last = _compile_trusted(source, label)
    sink = io.StringIO()
    try:
        with redirect_stdout(sink), redirect_stderr(sink):
            exec(body, ns)  # noqa: S102 - course code from solutions/, the trusted side
            value = eval(last, ns) if last is not None else None  # noqa: S307
    except Exception as exc:  # noqa: BLE001 - a failing test is an outcome, not an error
        return exc, None
    return None, value


def error_text(exc: BaseException) -> str:
    name = "NotImplementedError" if isinstance(exc, NotImplementedError) else type(exc).__name__
    return learner_message(name, str(exc))


def judge_notebook(name: str, source_nb: dict, submission_nb: dict, files: list[tuple[str, bytes]],
                   config: JudgeConfig) -> NotebookVerdict:
    """Judge one learner notebook against its trusted source (see the module docstring)."""
    program, notes = build_program(source_nb, submission_nb)
    verdict = NotebookVerdict(name=name, notes=list(notes))
    verdict.unchanged_answers = [c.label for c in program if c.kind == "answer" and c.unchanged]
    verdict.answer_ids = [c.label for c in program if c.kind == "answer"]
    judge = Judge(config)
    judge.files = files
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    ns["display"] = lambda *a, **k: None
    trusted: set[str] = {"display"}
    try:
        for cell in program:
            if cell.kind == "setup":
                error, _ = run_trusted(cell.source, cell.label, ns)
                if error is not None:
                    raise RuntimeError(f"the course's own cell '{cell.label}' failed in the judge: {error_text(error)}")
                if type(ns.get("tracemalloc")).__name__ == "module":
                    judge.tracemalloc = ns["tracemalloc"] = TracemallocShim()
                trusted |= {n for n in ns if not n.startswith("__")}
                judge.run_cell(cell, ns, trusted, verdict)
            elif cell.kind in ("answer", "added"):
                judge.run_cell(cell, ns, trusted, verdict)
            elif cell.kind == "test":
                error, value = run_trusted(cell.source, cell.label, ns)
                # Names a test cell defined are the course's: no learner export may replace them.
                trusted |= {n for n, v in ns.items() if not isinstance(v, Proxy) and n not in judge.data_names}
                score = nbgrader_score(cell.points, error, value)
                verdict.tests.append(CellVerdict(cell.label, cell.points, score, error_text(error) if error else ""))
    finally:
        judge.close()
    verdict.events = judge.events
    return verdict
