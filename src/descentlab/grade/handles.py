"""Handles: objects of the learner's own classes, living in the sandbox, used from the judge.

A learner's ``Scalar(2.0)`` or ``Adam(...)`` cannot cross the wire as data: it is code.
Instead it stays in the sandbox, in a table keyed by a random id (``secrets.token_hex``,
fresh per sandbox session), and only the tag ``{"$": "obj", "id": ..., "cls": ...}``
crosses. The judge wraps each tag it receives in a ``RemoteObject``; the test cell uses
that like the real object: methods, attributes holding plain data (or other handles),
arithmetic operators, comparisons, and passing it back as an argument.

What a handle can never do:

* name a judge object: a tag coming from the sandbox only ever becomes a RemoteObject of
  the session that sent it; the sandbox never sees the judge's objects, only ids of its
  own table (which it made, at random);
* outlive its session or cross to another submission: a RemoteObject remembers the
  session it came from and the judge refuses to send it anywhere else;
* reach private or special attributes: names starting with ``_`` are refused on both
  sides (``__class__``, ``__dict__``, ``__reduce__``...), and operators go through a fixed
  table of ``operator`` functions, not through names;
* lie about equality or truth: ``==`` and ``!=`` on a RemoteObject compare handle
  identity (the learner's ``__eq__`` is never asked), ``bool()``, ``float()`` and
  ``len()`` are refused, and ``<``, ``<=``, ``>``, ``>=`` are only forwarded between two
  learner objects and must answer ``True`` or ``False`` (``x < 0.3`` is refused: a test
  that wants a number reads it, ``x.value < 0.3``). Numbers come back as plain data, so
  tests check values (``a.grad``), never objects.

``isinstance(x, Scalar)`` in a test, where ``Scalar`` is the learner's class (a proxy in
the judge), asks the sandbox; see ``judge.Proxy.__instancecheck__``.

Imported on both sides of the boundary; keeps to the standard library.
"""
from __future__ import annotations

import operator
import re
import secrets
from typing import Any, Callable

MAX_HANDLES = 50_000  # objects one sandbox session may hand to the judge
TAG = "obj"
_ID = re.compile(r"[0-9a-f]{32}")
_CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,79}")

# Operators a test may apply to learner objects, by wire name. Unary ones take one operand.
BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "pow": operator.pow, "matmul": operator.matmul,
}
COMPARISONS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": operator.abs}
OPERATORS: dict[str, Callable[..., Any]] = {**BINARY, **COMPARISONS, **UNARY}


class HandleError(TypeError):
    """A handle was used where it is not valid (another submission, a restarted sandbox,
    too many of them, a private name)."""


def check_name(name: Any) -> str:
    """``name`` if it is a public attribute name; refuse ``_private`` and ``__special__``."""
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 100:
        raise HandleError("attribute names must be plain identifiers")
    if name.startswith("_"):
        raise HandleError(
            f"{name!r}: private and special attributes of a learner object are not available to "
            "the tests (only public methods, attributes and operators are)")
    return name


def is_learner_object(value: Any) -> bool:
    """An instance of a class defined in the learner's notebook (its module is __main__).
    Classes, functions and modules are not: only instances become handles."""
    kind = type(value)
    return getattr(kind, "__module__", None) == "__main__" and not isinstance(value, type)


def parse_tag(tree: dict) -> tuple[str, str]:
    """(id, class name) of a handle tag, checked strictly."""
    ident, cls = tree.get("id"), tree.get("cls", "object")
    if type(ident) is not str or not _ID.fullmatch(ident):
        raise ValueError("bad handle id")
    if type(cls) is not str or not _CLASS_NAME.fullmatch(cls):
        cls = "object"
    return ident, cls


class HandleTable:
    """The sandbox's side: learner objects by random id, for one session."""

    def __init__(self, limit: int = MAX_HANDLES):
        self.limit = limit
        self.objects: dict[str, Any] = {}
        self.ids: dict[int, str] = {}  # id(obj) -> handle; the objects are kept alive above
        self.order: list[str] = []  # handles in the order they were made (for rollback)

    def mark(self) -> int:
        return len(self.order)

    def rollback(self, mark: int) -> None:
        """Forget the handles made since ``mark``: an answer that failed to encode was never
        sent, so the judge never saw them and they must not count against the limit."""
        for ident in self.order[mark:]:
            self.ids.pop(id(self.objects.pop(ident)), None)
        del self.order[mark:]

    def tag(self, value: Any) -> dict:
        """``value``'s handle tag (the same handle every time for the same object)."""
        from .wire import NotPlainData, describe_type

        if not is_learner_object(value):
            raise NotPlainData(f"{describe_type(value)} is not plain data")
        ident = self.ids.get(id(value))
        if ident is None:
            if len(self.objects) >= self.limit:
                raise NotPlainData(
                    f"more than {self.limit} objects of your classes were sent to the tests; "
                    "return plain data, or fewer objects")
            ident = secrets.token_hex(16)
            self.objects[ident] = value
            self.ids[id(value)] = ident
            self.order.append(ident)
        return {"$": TAG, "id": ident, "cls": type(value).__qualname__[:80]}

    def resolve(self, tree: dict) -> Any:
        try:
            ident, _ = parse_tag(tree)
            return self.objects[ident]
        except (ValueError, KeyError):
            raise HandleError("no such object in this sandbox (a forged or foreign handle)") from None


class RemoteObject:
    """The judge's stand-in for a learner object in the sandbox (see the module docstring).

    ``client`` is the judge; it answers ``ask_object(ref, action, name, args, kwargs)``."""

    __slots__ = ("_client", "_session", "_id", "_cls")

    def __init__(self, client: Any, session: Any, ident: str, cls: str):
        for slot, value in (("_client", client), ("_session", session), ("_id", ident), ("_cls", cls)):
            object.__setattr__(self, slot, value)

    def _ask(self, action: str, name: str | None = None, args: tuple = (), kwargs: dict | None = None) -> Any:
        client = object.__getattribute__(self, "_client")
        return client.ask_object(self, action, name, args, kwargs or {})

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_"):
            if name in ("_ask", "__class__"):
                return object.__getattribute__(self, name)
            check_name(name)
        return object.__getattribute__(self, "_ask")("get", check_name(name))

    def __setattr__(self, name: str, value: Any) -> None:
        object.__getattribute__(self, "_ask")("set", check_name(name), (value,))

    def __delattr__(self, name: str) -> None:
        raise HandleError("tests cannot delete attributes of learner objects")

    def __call__(self, *args, **kwargs):
        return object.__getattribute__(self, "_ask")("call", None, args, kwargs)

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_cls')} object in the learner's sandbox>"

    # Identity, not the learner's __eq__: an object that says it equals everything cannot
    # pass a test. Hashable by identity, like a plain object.
    def __eq__(self, other: Any) -> bool:
        return other is self

    def __ne__(self, other: Any) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return hash(object.__getattribute__(self, "_id"))

    def __bool__(self) -> bool:
        raise HandleError("a learner object has no truth value in a test; check its attributes")

    def __reduce_ex__(self, protocol: Any):
        raise HandleError("a learner object cannot be pickled or copied in the judge")

    __reduce__ = __reduce_ex__

    def __deepcopy__(self, memo: Any):
        raise HandleError("a learner object cannot be pickled or copied in the judge")

    def __copy__(self):
        raise HandleError("a learner object cannot be pickled or copied in the judge")


class RemoteMethod:
    """A bound method of a learner object, fetched by attribute: calling it runs it there."""

    __slots__ = ("_target", "_name")

    def __init__(self, target: RemoteObject, name: str):
        self._target, self._name = target, name

    def __call__(self, *args, **kwargs):
        return self._target._ask("method", self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<method {self._name} of {self._target!r}>"


def _operator(name: str, reflected: bool = False):
    def forward(self, other):
        return self._ask("op", name, (other, self) if reflected else (self, other))
    forward.__name__ = f"__{'r' if reflected else ''}{name}__"
    return forward


for _name in BINARY:
    setattr(RemoteObject, f"__{_name}__", _operator(_name))
    setattr(RemoteObject, f"__r{_name}__", _operator(_name, reflected=True))
for _name in COMPARISONS:
    setattr(RemoteObject, f"__{_name}__", _operator(_name))
for _name in UNARY:
    setattr(RemoteObject, f"__{_name}__", lambda self, _n=_name: self._ask("op", _n, (self,)))
del _name
