"""The program that runs INSIDE the sandbox, one process per learner notebook.

It holds the learner's namespace: it runs the answer cells (and the course's read-only
setup cells) it is sent, then serves calls ``name(*args, **kwargs)`` from the judge and
answers with plain data or an exception as text. Objects of the learner's own classes stay
here, in a table of handles (handles.py), and the judge works on them by handle. It never
sees a test cell, never decides a score, and everything it sends back is decoded strictly
by the judge: learner code may take this process over completely and still only return
values and handles to its own objects.

In the sandbox it is a fork of the zygote (``zygote.py``) that calls ``serve`` on its
protocol socket; unconfined it is started as ``python -I -m descentlab.grade.runner
LIMITS_JSON`` with the protocol on stdin/stdout. Either way the protocol is moved out of the
learner's way before any learner code runs.
"""
from __future__ import annotations

import builtins
import errno
import json
import os
import sys
import traceback

import numpy as np

from descentlab.grade.handles import COMPARISONS, OPERATORS, HandleTable, check_name, is_learner_object
from descentlab.grade.wire import Channel, NotPlainData, WireError, decode, describe_type, encode

MAIN_PID = os.getpid()


class CappedText:
    """A text stream that keeps its first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int):
        self.cap = cap
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def write(self, text) -> int:
        text = str(text)
        room = self.cap - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def take(self) -> tuple[str, int]:
        text, dropped = "".join(self.parts), self.dropped
        self.parts, self.kept, self.dropped = [], 0, 0
        return text, dropped


def apply_limits(limits: dict) -> None:
    import resource

    def cap(name: str, value: int) -> None:
        kind = getattr(resource, name)
        soft, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap("RLIMIT_CORE", 0)
    if limits.get("memory_mb"):
        cap("RLIMIT_AS", int(limits["memory_mb"]) * 1024 * 1024)
    if limits.get("cpu_seconds"):
        cap("RLIMIT_CPU", int(limits["cpu_seconds"]))
    if limits.get("nproc"):
        cap("RLIMIT_NPROC", int(limits["nproc"]))
    if limits.get("fsize_mb"):
        cap("RLIMIT_FSIZE", int(limits["fsize_mb"]) * 1024 * 1024)
    cap("RLIMIT_NOFILE", 256)


def drop_privileges(uid: int) -> None:
    """Under bwrap started by root the process is uid 0 of the host; become an unprivileged
    uid of our own so RLIMIT_NPROC applies and no root-owned file is writable."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("could not drop root privileges")


def resource_kind(exc: BaseException) -> str | None:
    """Which sandbox limit (if any) this exception reports hitting."""
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN and not isinstance(exc, (TimeoutError,)):
        return "processes"
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
        return "processes"
    if isinstance(exc, OSError) and exc.errno in (errno.EFBIG, errno.ENOSPC):
        return "disk"
    return None


def exception_text(exc: BaseException) -> dict:
    kind = type(exc)
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a learner's exception may fail to print
        message = "<unprintable message>"
    bases = []
    for base in getattr(kind, "__mro__", ())[1:16]:
        bases.append([str(getattr(base, "__module__", "") or "")[:100], str(getattr(base, "__name__", ""))[:100]])
    return {
        "type": str(getattr(kind, "__name__", "Exception"))[:100],
        "module": str(getattr(kind, "__module__", "") or "")[:100],
        "bases": bases,
        "message": message[:4000],
        "resource": resource_kind(exc),
    }


def learner_traceback(exc: BaseException, filename_prefix: str = "<cell ") -> str:
    """The traceback lines from the learner's own cells (for their feedback)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(filename_prefix)]
    lines = [f"  {f.filename}, line {f.lineno}, in {f.name}" for f in frames[-5:]]
    return "\n".join(lines)


class Runner:
    def __init__(self, channel: Channel, output_cap: int):
        self.channel = channel
        self.ns: dict = {"__name__": "__main__", "__builtins__": builtins}
        self.out = CappedText(output_cap)
        self.next_id = 1 << 30  # ids of requests this side starts (callbacks)
        self.handles = HandleTable()
        self._shell = None
        self.released: list[int] = []  # judge callables this side no longer references

    # -- protocol --------------------------------------------------------------------
    def send(self, message: dict) -> None:
        if os.getpid() != MAIN_PID:  # a learner's fork must never talk to the judge
            os._exit(0)
        if self.released:
            message["released"], self.released = self.released, []
        self.channel.send(message)

    def refs(self, tag: dict):
        if tag.get("$") == "fn":
            name = tag.get("name")
            if not isinstance(name, str):
                raise WireError("bad function reference")
            return LearnerFunction(self, name)
        if tag.get("$") == "cb":
            ident = tag.get("id")
            if type(ident) is not int:
                raise WireError("bad callback reference")
            return Callback(self, ident)
        if tag.get("$") == "obj":
            return self.handles.resolve(tag)
        raise WireError("bad reference")

    def serve(self) -> None:
        while True:
            message = self.channel.recv()
            if message["op"] == "exit":
                return
            self.handle(message)

    def wait_for(self, ident: int) -> dict:
        """Serve the judge's requests until the answer to our request ``ident`` arrives."""
        while True:
            message = self.channel.recv()
            if message.get("id") == ident and message["op"] in ("return", "raise"):
                return message
            if message["op"] == "exit":
                os._exit(0)
            self.handle(message)

    def handle(self, message: dict) -> None:
        op, ident = message["op"], message.get("id")
        if op == "files":
            self.write_files(message)
            self.send({"op": "return", "id": ident, "value": None})
        elif op == "run":
            self.send(self.run_cell(ident, message["label"], message["source"]))
        elif op == "call":
            self.send(self.call(ident, message))
        elif op == "obj":
            self.send(self.serve_object(ident, message))
        else:
            self.send({"op": "raise", "id": ident, "type": "RuntimeError", "module": "builtins",
                       "message": f"unknown op {op!r}", "resource": None})

    # -- work ------------------------------------------------------------------------
    def write_files(self, message: dict) -> None:
        for relpath, blob in message["files"]:
            data = decode(blob)
            path = os.path.normpath(relpath)
            if path.startswith("..") or os.path.isabs(path):
                continue
            if os.path.dirname(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)

    def compile_cell(self, label: str, source: str):
        filename = f"<cell {label}>"
        try:
            return compile(source, filename, "exec")
        except SyntaxError as first:
            if not any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()) and "?" not in source:
                raise
            from IPython.core.inputtransformer2 import TransformerManager

            transformed = TransformerManager().transform_cell(source)
            try:
                code = compile(transformed, filename, "exec")
            except SyntaxError:
                raise first from None
            self.ns.setdefault("get_ipython", self.get_ipython)
            return code

    def get_ipython(self):
        if self._shell is None:
            from IPython.core.interactiveshell import InteractiveShell

            self._shell = InteractiveShell.instance(user_ns=self.ns)
        return self._shell

    def exports(self) -> dict:
        """Names the learner's code defined: 'function' for callables, plain data as data."""
        functions, data = [], {}
        for name, value in list(self.ns.items()):
            if name.startswith("_") or name in ("get_ipython", "display"):
                continue
            if type(value).__name__ == "module":
                continue
            if callable(value):
                functions.append(name)
                continue
            if (isinstance(value, np.ndarray) and value.nbytes > 1_000_000) or \
                    (isinstance(value, (list, tuple, dict, str, bytes)) and len(value) > 10_000):
                continue  # big module-level data stays here; tests call functions
            try:
                data[name] = encode(value)
            except (NotPlainData, RecursionError):
                continue
        return {"functions": functions, "data": data}

    def run_cell(self, ident: int, label: str, source: str) -> dict:
        reply: dict = {"op": "ran", "id": ident, "error": None}
        try:
            code = self.compile_cell(label, source)
            exec(code, self.ns)  # noqa: S102 - this is the sandbox; running learner code is its job
        except BaseException as exc:  # noqa: BLE001 - report everything, keep serving
            if isinstance(exc, SystemExit) and os.getpid() != MAIN_PID:
                os._exit(0)
            reply["error"] = exception_text(exc)
            reply["error"]["where"] = learner_traceback(exc)
        if os.getpid() != MAIN_PID:
            os._exit(0)
        text, dropped = self.out.take()
        reply["output"] = text[-2000:]
        reply["output_dropped"] = dropped
        reply.update(self.exports())
        return reply

    def call(self, ident: int, message: dict) -> dict:
        try:
            bindings = decode(message.get("bind") or {}, self.refs)
            function = self.ns.get(message["name"])
            if function is None:
                raise NameError(f"name {message['name']!r} is not defined")
        except BaseException as exc:  # noqa: BLE001
            return {"op": "raise", "id": ident, **exception_text(exc)}
        saved = {name: self.ns.get(name, _UNSET) for name in bindings}
        self.ns.update(bindings)  # the test's own versions of course functions, for this call
        try:
            return self.invoke(ident, function, str(message["name"]), message)
        finally:
            for name, before in saved.items():
                if before is _UNSET:
                    self.ns.pop(name, None)
                else:
                    self.ns[name] = before
            del bindings, saved

    def serve_object(self, ident: int, message: dict) -> dict:
        """One operation on learner objects by handle: read or set an attribute, call the
        object or one of its methods, apply an operator, or answer isinstance."""
        try:
            action, name = message.get("action"), message.get("name")
            target = self.handles.resolve(message["handle"]) if "handle" in message else None
            if action == "get":
                value = getattr(target, check_name(name))
                if callable(value) and not is_learner_object(value):
                    return {"op": "return", "id": ident, "value": None, "method": True}
                return {"op": "return", "id": ident, "value": self.encode_answer(value)}
            if action == "set":
                setattr(target, check_name(name), decode(message["value"], self.refs))
                return {"op": "return", "id": ident, "value": None}
            if action == "isinstance":
                kind = self.ns.get(check_name(name))
                answer = isinstance(kind, type) and isinstance(target, kind)
                return {"op": "return", "id": ident, "value": bool(answer)}
            if action == "call":
                function, label = target, type(target).__qualname__
            elif action == "method":
                function, label = getattr(target, check_name(name)), f"{type(target).__qualname__}.{name}"
            elif action == "op" and name in OPERATORS:
                function, label = OPERATORS[name], f"the operator {name}"
            else:
                raise WireError(f"unknown object action {action!r}")
        except NotPlainData as exc:
            return {"op": "raise", "id": ident, "type": "TypeError", "module": "builtins",
                    "message": f"{type(target).__qualname__}.{name} cannot be sent to the tests: {exc}",
                    "resource": None}
        except BaseException as exc:  # noqa: BLE001
            if os.getpid() != MAIN_PID:
                os._exit(0)
            return {"op": "raise", "id": ident, **exception_text(exc)}
        reply = self.invoke(ident, function, label, message)
        if action == "op" and name in COMPARISONS and reply["op"] == "return" and type(reply["value"]) is not bool:
            reply = {"op": "raise", "id": ident, "type": "TypeError", "module": "builtins",
                     "message": "a comparison of your objects must give True or False", "resource": None}
        return reply

    def tag(self, value) -> dict:
        """How a non-data value goes to the judge: a judge callable the learner's code was
        given goes back as its reference; an object of the learner's classes as a handle."""
        if isinstance(value, Callback):
            return judge_ref(value)
        return self.handles.tag(value)

    def encode_answer(self, value):
        """``value`` for the wire: plain data, with objects of the learner's classes as
        handles; if it cannot be sent, the handles made for it are forgotten again."""
        mark = self.handles.mark()
        try:
            return encode(value, self.tag)
        except BaseException:
            self.handles.rollback(mark)
            raise

    def invoke(self, ident: int, function, label: str, message: dict) -> dict:
        """Call ``function`` with the message's arguments; the answer is plain data or
        handles, and any in-place change to a data argument is reported back."""
        try:
            args = decode(message["args"], self.refs)
            kwargs = decode(message["kwargs"], self.refs)
        except BaseException as exc:  # noqa: BLE001
            return {"op": "raise", "id": ident, **exception_text(exc)}
        watched = {i: message["args"]["v"][i] for i, a in enumerate(args) if isinstance(a, (np.ndarray, list, dict))}
        watched_kw = {
            k: v for k, v in message["kwargs"]["v"]
            if isinstance(k, str) and isinstance(kwargs.get(k), (np.ndarray, list, dict))
        }
        try:
            value = function(*args, **kwargs)
            reply = {"op": "return", "id": ident, "value": self.encode_answer(value)}
        except NotPlainData as exc:
            reply = {"op": "raise", "id": ident, "type": "TypeError", "module": "builtins",
                     "message": f"{label} returned {exc}; graded functions must return numbers, numpy "
                                "arrays of numbers, objects of your own classes, or lists/tuples/dicts of those",
                     "resource": None}
        except BaseException as exc:  # noqa: BLE001
            if os.getpid() != MAIN_PID:
                os._exit(0)
            reply = {"op": "raise", "id": ident, **exception_text(exc)}
        if os.getpid() != MAIN_PID:
            os._exit(0)
        mutated = []
        for i, original in watched.items():
            try:
                now = encode(args[i])
            except (NotPlainData, RecursionError):
                continue
            if now != original:
                mutated.append([i, now])
        for key, original in watched_kw.items():
            try:
                now = encode(kwargs[key])
            except (NotPlainData, RecursionError):
                continue
            if now != original:
                mutated.append([key, now])
        if mutated:
            reply["mutated"] = mutated
        self.out.take()
        return reply


_UNSET = object()


def judge_ref(value):
    """How a judge callable the learner's code got (a callback) goes back to the judge: as
    its reference, which the judge resolves to its own object."""
    if isinstance(value, Callback) and value.alive:
        return {"$": "cb", "id": value.ident}
    raise NotPlainData(f"{describe_type(value)} is not plain data")


class LearnerFunction:
    """A learner function the judge passed back as an argument (a proxy it holds)."""

    def __init__(self, runner: Runner, name: str):
        self.runner, self.name = runner, name

    def __call__(self, *args, **kwargs):
        return self.runner.ns[self.name](*args, **kwargs)


class Callback:
    """A callable from a test cell (a lambda to differentiate, say): it runs in the judge,
    on plain data (objects of the learner's classes go as handles), and its result comes
    back as plain data."""

    def __init__(self, runner: Runner, ident: int):
        self.runner, self.ident, self.alive = runner, ident, True

    def __del__(self):
        # The judge holds the object this stands for until told it is no longer referenced
        # here: a test can count what the learner's code keeps alive (exercise 05's
        # stored activations) from what it is told, and a false report only breaks the
        # learner's own later use of it.
        if self.alive:
            self.alive = False
            self.runner.released.append(self.ident)

    def __call__(self, *args, **kwargs):
        runner = self.runner
        runner.next_id += 1
        ident = runner.next_id
        runner.send({
            "op": "callback", "id": ident, "cb": self.ident,
            "args": runner.encode_answer(tuple(args)), "kwargs": runner.encode_answer(dict(kwargs)),
        })
        reply = runner.wait_for(ident)
        if reply["op"] == "return":
            return decode(reply["value"], runner.refs)
        kind = getattr(builtins, str(reply.get("type")), None)
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            kind = RuntimeError
        raise kind(reply.get("message", ""))


def display(*objects, **kwargs) -> None:
    """IPython's display, as far as a headless run needs it: print the reprs."""
    for obj in objects:
        print(repr(obj))


def main() -> None:
    """The unconfined fallback's entry point (``--no-sandbox``); the sandbox forks its
    runners from the zygote, which calls ``serve`` directly."""
    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if limits.get("uid") and os.getuid() == 0:
        drop_privileges(int(limits["uid"]))
    read_fd, write_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    serve(read_fd, write_fd, limits)


def serve(read_fd: int, write_fd: int, limits: dict) -> None:
    """Apply the limits, move stdout out of the learner's way, and serve the judge."""
    apply_limits(limits)
    # What the judge sends is trusted (the learner's own files can be large): no size cap.
    runner = Runner(Channel(read_fd, write_fd, max_frame=1 << 40, bounded=False), int(limits.get("output_chars", 20000)))
    sys.stdout = sys.stderr = runner.out
    builtins.display = display
    if limits.get("workdir"):
        os.makedirs(limits["workdir"], exist_ok=True)
        os.chdir(limits["workdir"])
    runner.send({"op": "ready", "pid": os.getpid()})
    try:
        runner.serve()
    except (WireError, OSError):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
