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
   0, a numeric last expression is partial credit, otherwise full points. An object of the
   learner's own classes (``Scalar(2.0)``) stays in the sandbox; the test holds a
   ``RemoteObject`` handle to it (handles.py).

No learner code ever runs in the judge's process, and nothing the sandbox sends can be more
than plain data, so no learner code can decide a verdict.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import contextvars
import functools
import io
import os
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..notebook import NOT_IMPLEMENTED, function_under_test, learner_message
from .handles import COMPARISONS, MAX_HANDLES, HandleError, RemoteMethod, RemoteObject, parse_tag
from .learner_exceptions import exception_from, public_type
from .program import Cell, build_program
from .sandbox import Limits, start_unconfined
from .verdict import CellVerdict, Event, NotebookVerdict
from .zygote import Zygote, ZygoteError, shared
from .wire import Channel, ChannelClosed, ChannelTimeout, NotPlainData, WireError, decode, describe_type, encode

MAX_RESTARTS = 3
_UNSET = object()
# The judge whose test cells are running (per thread): a handle works only under its own.
_ACTIVE_JUDGE: contextvars.ContextVar["Judge | None"] = contextvars.ContextVar("active_judge", default=None)
START_TIMEOUT = 60.0
MAX_CALLBACKS = 200_000  # callback requests one call may make (a flood would spin the judge)
MAX_CALLABLES = 100_000  # judge-side callables the sandbox may hold references to


class SandboxLost(Exception):
    """The learner's process died, timed out or broke the protocol during this call."""


@dataclass(frozen=True)
class JudgeConfig:
    """How one submission's notebooks are judged: where learner code runs and for how long."""

    mode: str  # "bwrap" | "none" (unconfined, see sandbox.probe)
    limits: Limits
    protected: tuple[Path, ...]  # folders never mounted into the sandbox
    call_timeout: float  # seconds for one cell or one call of a learner function
    deadline: float  # time.monotonic() when the whole submission must be done
    fallback_workdir: str | None = None  # the unconfined runner's working folder


def _resource(reply: dict) -> str:
    """The limit the sandbox says was hit, as one of our own words."""
    kind = reply.get("resource")
    return kind if kind in ("memory", "processes", "disk") else "a resource"


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
        served = 0
        try:
            self.channel.send(message, deadline)
            while True:
                reply = self.channel.recv(deadline)
                if reply.get("op") == "callback":
                    served += 1
                    if served > MAX_CALLBACKS:
                        raise WireError(f"more than {MAX_CALLBACKS} callbacks in one call (a flood)")
                    self.serve_callback(reply)
                    continue
                if reply.get("id") != ident:
                    raise WireError("an answer to a question that was not asked")
                return reply
        except ChannelTimeout:
            self.kill()
            raise
        except ChannelClosed:
            self.settle()
            raise
        except (WireError, OSError):
            self.kill()
            raise

    def serve_callback(self, message: dict) -> None:
        ident = message.get("id")
        try:
            self.judge.release(message)
            function = self.judge.callbacks[message["cb"]]
            args = decode(message.get("args"), self.judge.sandbox_ref)
            kwargs = decode(message.get("kwargs"), self.judge.sandbox_ref)
            if type(args) is not tuple or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise WireError("bad callback arguments")
        except (KeyError, TypeError, WireError) as exc:
            raise WireError(f"bad callback request ({type(exc).__name__})") from None
        try:
            value = function(*args, **kwargs)
            reply = {"op": "return", "id": ident, "value": encode(value, self.judge.handle)}
        except SandboxLost:
            raise
        except Exception as exc:  # noqa: BLE001 - passed back to the learner's code
            reply = {"op": "raise", "id": ident, "type": type(exc).__name__, "message": str(exc)[:2000]}
        self.channel.send(reply, time.monotonic() + self.judge.timeout_left())

    def settle(self, grace: float = 2.0) -> None:
        """The runner closed its end of the channel, so it is ending: give it up to ``grace``
        seconds to end by itself before it is killed, so that the status reported is its own
        (``os._exit(3)`` reads "exited with status 3", not the judge's SIGKILL; on a loaded
        machine bwrap may take a moment to pass its child's status on)."""
        if self.alive:
            try:
                self.process.wait(timeout=grace)
            except Exception:  # noqa: BLE001 - still running: it is killed below
                pass
        self.kill()

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

    def __instancecheck__(self, value: Any) -> bool:
        """``isinstance(x, Scalar)`` where Scalar is the learner's class: True when ``x`` is
        a handle of this submission whose object the sandbox says is an instance of it (in
        one kernel the learner's own isinstance answers too); False for anything else."""
        if not isinstance(value, RemoteObject) or object.__getattribute__(value, "_client") is not self._judge:
            return False
        return self._judge.ask_object(value, "isinstance", self._name, (), {}) is True


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
        self.ns: dict = {}  # the test cells' namespace
        self.trusted: set[str] = set()  # names in it no learner export may replace
        self.tainted = False  # the current learner process has seen hidden inputs
        self.course_functions: dict[str, Any] = {}  # what the setup cells defined, by name
        self.next_handle = 0
        self.remote: dict[str, RemoteObject] = {}  # handles of the current session, by id
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
        if isinstance(value, RemoteObject):
            return {"$": "obj", "id": self._own(value)}
        if callable(value):
            if len(self.callbacks) >= MAX_CALLABLES:
                raise NotPlainData(f"more than {MAX_CALLABLES} functions passed to the sandbox")
            self.next_handle += 1
            ident = self.next_handle
            self.callbacks[ident] = value
            return {"$": "cb", "id": ident}
        raise NotPlainData(f"{describe_type(value)} is not plain data")

    def _own(self, ref: RemoteObject) -> str:
        """The id of a handle of THIS submission's live sandbox, or a clear refusal."""
        if object.__getattribute__(ref, "_client") is not self:
            raise HandleError("an object from another submission cannot be used in this one")
        if object.__getattribute__(ref, "_session") is not self.session or not self.session.alive:
            raise HandleError("this object was lost when the learner's process stopped; "
                              "it cannot be used any more")
        return object.__getattribute__(ref, "_id")

    def sandbox_ref(self, tree: dict) -> Any:
        """What a reference the sandbox sent stands for: a judge callable it was given back,
        or a learner object by handle."""
        if tree.get("$") == "cb":
            return self.resolve(tree)
        return self.remote_ref(tree)

    def remote_ref(self, tree: dict) -> RemoteObject:
        """The RemoteObject for a handle tag the sandbox sent; nothing else may come back."""
        if tree.get("$") != "obj":
            raise WireError(f"the sandbox sent a {tree.get('$')!r} reference")
        try:
            ident, cls = parse_tag(tree)
        except ValueError as exc:
            raise WireError(str(exc)) from None
        ref = self.remote.get(ident)
        if ref is None:
            if len(self.remote) >= MAX_HANDLES:
                raise WireError(f"more than {MAX_HANDLES} learner objects in one submission")
            ref = self.remote[ident] = RemoteObject(self, self.session, ident, cls)
        return ref

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
            self.remote = {}
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
                reply = self._run_cell(cell, replay=True)
                if reply is not None:
                    self.refresh(self.ns, self.trusted, reply)  # data as this process has it
        return self.session

    def taint(self) -> None:
        """A hidden part ran: the learner's process has seen hidden inputs and could keep
        them to say later, in an error or a value that a visible test shows in full."""
        self.tainted = True

    def forget(self) -> None:
        """End a tainted learner process. The next cell or call starts a fresh one (not
        counted as a failure) that replays the cells run so far but has seen no hidden
        input, so what it says can be shown in full."""
        if self.session is not None:
            self.session.kill()
            self.session = None
        self.callbacks.clear()
        self.tainted = False

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
        """Run a setup/answer cell in the sandbox and refresh the proxies in ``ns``. An error
        from a process that saw hidden inputs is taken again from a fresh one."""
        try:
            self.ensure_session()
            reply = self._run_cell(cell)
            if self.tainted and isinstance(reply.get("error"), dict):
                self.forget()
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
                self.events.append(Event("resource", f"cell '{cell.label}' hit the {_resource(error)} limit ({text})"))
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


    def resolve(self, tag: dict) -> Any:
        """A judge callable the sandbox sends back (a callback it was given): the object itself."""
        ident = tag.get("id") if tag.get("$") == "cb" else None
        if type(ident) is not int or ident not in self.callbacks:
            raise WireError("a reference to a function the judge never sent, or one it was told was released")
        return self.callbacks[ident]

    def release(self, message: dict) -> None:
        """Forget the judge callables the sandbox no longer references (their objects may die:
        a test can count what is alive)."""
        released = message.get("released")
        if released is None:
            return
        if type(released) is not list or len(released) > MAX_CALLABLES:
            raise WireError("bad release list")
        for ident in released:
            if type(ident) is int:
                self.callbacks.pop(ident, None)

    def bindings(self) -> dict:
        """Course functions a test cell replaced (an instrumented ``layer_forward``, say):
        in one kernel the learner's code would call the test's version, so for this call it
        does in the sandbox too; the replacement runs here, as a callback."""
        changed = {}
        for name, original in self.course_functions.items():
            now = self.ns.get(name, original)
            if now is not original and callable(now) and not isinstance(now, Proxy):
                changed[name] = now
        return changed

    def call(self, name: str, args: tuple, kwargs: dict) -> Any:
        return self.ask({"op": "call", "name": name}, f"{name}()", args, kwargs)

    def ask_object(self, ref: RemoteObject, action: str, name: str | None, args: tuple, kwargs: dict) -> Any:
        """One operation on a learner object (RemoteObject calls this): the answer is plain
        data, another handle, or for a method fetched by name a RemoteMethod."""
        if _ACTIVE_JUDGE.get() is not self:
            raise HandleError("an object from another submission cannot be used in this one")
        cls = object.__getattribute__(ref, "_cls")
        message: dict = {"op": "obj", "action": action, "name": name}
        if action == "op":
            for operand in args:  # an operator may have the handle on either side
                if isinstance(operand, RemoteObject):
                    self._own(operand)
            label = f"the operator {name} on {cls}"
            if name in COMPARISONS and not all(isinstance(a, RemoteObject) for a in args):
                raise TypeError(f"{label}: a learner object is only compared with another one; "
                                "to check a number, compare its attribute (x.value < 0.3)")
        else:
            message["handle"] = {"$": "obj", "id": self._own(ref)}
            label = {"get": f"{cls}.{name}", "set": f"setting {cls}.{name}", "call": f"{cls}()",
                     "isinstance": f"isinstance(..., {name})"}.get(action, f"{cls}.{name}()")
        if action == "set":
            try:
                message["value"] = encode(args[0], self.handle)
            except NotPlainData as exc:
                raise TypeError(f"cannot set {label} to {exc}") from None
            args = ()
        value, method = self.ask(message, label, args, kwargs, want_method=True)
        if method:
            return RemoteMethod(ref, name)
        if action == "op" and name in COMPARISONS and type(value) is not bool:
            raise TypeError(f"{label} must give True or False")
        return value

    def ask(self, message: dict, label: str, args: tuple, kwargs: dict, want_method: bool = False) -> Any:
        """Send one request with encoded arguments and wait for its plain-data answer."""
        try:
            message["args"] = encode(tuple(args), self.handle)
            message["kwargs"] = encode(dict(kwargs), self.handle)
            if message.get("op") == "call":
                message["bind"] = encode(self.bindings(), self.handle)
        except NotPlainData as exc:
            raise TypeError(f"cannot pass {exc} to {label} in the sandbox") from None
        session = self.ensure_session()
        if self.timeout_left() <= 0:
            self.events.append(Event("timeout", f"{label}: the time for this submission ran out"))
            raise SandboxLost("the time for this submission ran out")
        try:
            reply = session.request(message, self.timeout_left())
        except (ChannelTimeout, ChannelClosed, WireError, OSError) as exc:
            raise self._lost(session, label, exc, None) from None
        if reply.get("op") == "return":
            try:
                method = reply.get("method") is True and want_method
                value = None if method else decode(reply.get("value"), self.sandbox_ref)
                self._write_back(args, kwargs, reply.get("mutated"))
                self.release(reply)
            except WireError as exc:
                session.kill()
                raise self._lost(session, label, exc, None) from None
            return (value, method) if want_method else value
        if reply.get("op") == "raise":
            try:
                self.release(reply)
            except WireError as exc:
                session.kill()
                raise self._lost(session, label, exc, None) from None
            if reply.get("resource"):
                self.events.append(Event("resource", f"{label} hit the {_resource(reply)} limit"))
            raise exception_from(reply)
        session.kill()
        raise self._lost(session, label, WireError("unexpected answer"), None)

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

@functools.lru_cache(maxsize=1024)
def _compile_trusted(source: str, label: str):
    """Compile a course cell (setup or test), keeping its last expression apart so its value
    can be scored like nbgrader's execute_result. Cached: the same course cells run for
    every submission (code objects are immutable; each run gets its own namespace)."""
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


HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@functools.lru_cache(maxsize=1024)
def split_hidden(source: str) -> tuple[tuple[str, bool], ...]:
    """A test cell's source as runs of (code, hidden), at its hidden-test markers. A cell
    whose parts do not compile on their own (markers inside a block) is all hidden.
    Cached, like ``_compile_trusted``."""
    parts: list[tuple[str, bool]] = []
    lines: list[str] = []
    hidden = False
    for line in source.splitlines(keepends=True):
        marker = line.strip()
        if marker in (HIDDEN_BEGIN, HIDDEN_END):
            if lines:
                parts.append(("".join(lines), hidden))
            lines, hidden = [], marker == HIDDEN_BEGIN
            continue
        lines.append(line)
    if lines:
        parts.append(("".join(lines), hidden))
    if not any(h for _, h in parts):
        return ((source, False),)
    try:
        for code, _ in parts:
            ast.parse(code)
    except SyntaxError:
        return ((source, True),)
    return tuple((code, h) for code, h in parts if code.strip())


def compile_course_cells(sources: dict[str, dict]) -> None:
    """Compile every course cell of the source notebooks once (``sources``: name -> parsed
    notebook), in the grader's main process before it forks its workers, so that every
    fork finds them compiled."""
    from .program import build_program

    for source_nb in sources.values():
        program, _ = build_program(source_nb, source_nb)
        for cell in program:
            try:
                if cell.kind == "test":
                    for code, _ in split_hidden(cell.source):
                        _compile_trusted(code, cell.label)
                elif cell.kind == "setup":
                    _compile_trusted(cell.source, cell.label)
            except SyntaxError:
                pass  # reported where the cell runs, for each submission


def run_test_cell(source: str, label: str, ns: dict,
                  after_hidden: Callable[[], None] = lambda: None) -> tuple[BaseException | None, Any, bool]:
    """Run a test cell part by part: (error, last value, whether the error was hidden).
    Hidden parts run with ``descentlab.expect.hidden_checks`` on, and ``after_hidden`` runs
    after each of them (the judge forgets the sandbox that saw the hidden inputs)."""
    from descentlab.expect import hidden_checks

    parts = split_hidden(source)
    value = None
    for index, (code, hidden) in enumerate(parts):
        with hidden_checks() if hidden else contextlib.nullcontext():
            error, value = run_trusted(code, label, ns)
        if hidden:
            after_hidden()
        if index < len(parts) - 1:
            value = None
        if error is not None:
            return error, None, hidden
    return None, value, False


def visible_message_again(judge: Judge, cell: Cell, ns: dict) -> str:
    """The failure message of a visible test that failed in a learner process which had seen
    hidden inputs: its visible part runs again against a fresh process (the score stays that
    of the first run, as in one kernel) and that run's message is shown."""
    judge.forget()
    try:
        judge.ensure_session()  # replays the cells, so the learner's data in ``ns`` is fresh too
    except SandboxLost:
        return "this test failed (its message could not be taken again: your code's process did not start)"
    parts = split_hidden(cell.source)
    error = None
    if parts and parts[0][1] is False:
        error, _ = run_trusted(parts[0][0], cell.label, ns)
    if error is None:
        return ("this test failed, and passed when its visible checks ran again in a fresh process: "
                "does your code keep state between calls?")
    return error_text(error)


def error_text(exc: BaseException) -> str:
    if isinstance(exc, SandboxLost):
        return str(exc).strip()
    name = "NotImplementedError" if isinstance(exc, NotImplementedError) else type(exc).__name__
    return learner_message(name, str(exc))


def hidden_error_text(exc: BaseException, label: str) -> str:
    """What a learner reads about a failed hidden test: which function, and the course's
    words only (never a value, nor text the learner's code produced during the test)."""
    where = f"a hidden test of {function_under_test(label)} failed"
    from descentlab.expect import HiddenCheckFailed

    if isinstance(exc, NotImplementedError):
        return f"{where}: {NOT_IMPLEMENTED}"
    if isinstance(exc, HiddenCheckFailed):
        return f"{where}: {str(exc).strip()[:1000]}"
    if isinstance(exc, SandboxLost):
        return f"{where}: {exc}"
    if isinstance(exc, AssertionError):
        return f"{where}; hidden tests do not show their inputs or values. Check the edge cases the exercise describes."
    return (f"{where}: your code raised {public_type(exc)} (hidden tests do not show the message); "
            "check the edge cases the exercise describes")


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
    judge.ns = ns
    trusted: set[str] = {"display"}
    judge.trusted = trusted
    active = _ACTIVE_JUDGE.set(judge)
    try:
        for cell in program:
            if cell.kind == "setup":
                error, _ = run_trusted(cell.source, cell.label, ns)
                if error is not None:
                    raise RuntimeError(f"the course's own cell '{cell.label}' failed in the judge: {error_text(error)}")
                judge.course_functions.update(
                    {n: v for n, v in ns.items() if not n.startswith("__") and callable(v) and n not in trusted})
                trusted |= {n for n in ns if not n.startswith("__")}
                judge.run_cell(cell, ns, trusted, verdict)
            elif cell.kind in ("answer", "added"):
                judge.run_cell(cell, ns, trusted, verdict)
            elif cell.kind == "test":
                before = dict(ns)
                error, value, hidden = run_test_cell(cell.source, cell.label, ns, judge.taint)
                # Names a test cell bound are the course's from now on (even one that was the
                # learner's data before): no later learner export may replace or delete them.
                rebound = {n for n, v in ns.items() if not isinstance(v, Proxy) and before.get(n, _UNSET) is not v}
                judge.data_names -= rebound
                trusted |= rebound | {n for n, v in ns.items() if not isinstance(v, Proxy) and n not in judge.data_names}
                score = nbgrader_score(cell.points, error, value)
                if error is None:
                    message = ""
                elif hidden:
                    message = hidden_error_text(error, cell.label)
                elif judge.tainted and not isinstance(error, (NotImplementedError, SandboxLost)):
                    message = visible_message_again(judge, cell, ns)
                else:
                    message = error_text(error)
                verdict.tests.append(CellVerdict(cell.label, cell.points, score, message))
    finally:
        _ACTIVE_JUDGE.reset(active)
        judge.close()
    verdict.events = judge.events
    return verdict
