"""Jinja rendering with a size and time bound, for templates that users write.

Bug-report templates (:mod:`diagkit.reports.render`) and customer-update templates
(:mod:`diagkit.cases.updates`) may be overridden by files in the config folder. Jinja's
:class:`~jinja2.sandbox.SandboxedEnvironment` keeps such a template away from Python's internals,
but not from exhausting the machine: ``{{ '%s' * 10**8 }}`` ran for more than 20 s and
``{% for i in range(10**9) %}`` ended in an ``OverflowError`` traceback.

:class:`BoundedSandbox` is that sandbox with bounds, enforced where Jinja offers hooks:

* **time**: a deadline (``time_budget`` seconds from the environment's creation: make one
  environment per rendering job) checked on every call, attribute and item access, operator,
  filter, loop iteration and output chunk, so even a loop with an empty body stops in time;
* **output**: the rendered text, and every intermediate text a template builds (macro results,
  ``{% set %}`` blocks, filter blocks; Jinja joins those through ``environment.concat``), is at
  most ``max_output`` characters, and all of them together at most ``4 * max_output``;
* **values**: ``*``, ``+``, ``%`` and ``**`` are intercepted: a string, list or integer result
  that would exceed the bound is refused *before* it is built; so are ``str`` methods and
  filters that multiply size (``ljust``/``center``/``zfill``, ``replace``, ``join``,
  ``expandtabs``, ``translate``, ``format``, ``|indent``, ``|wordwrap``, ``|urlize``...), integer
  arguments above the bound (``(1).to_bytes(10**9)``) and list growth (``extend``/``append``);
* **loops**: ``range()`` has at most :data:`MAX_RANGE` items (Jinja's own sandbox limit) and
  a render runs at most :data:`MAX_ITERATIONS` loop iterations in total; ``lipsum`` is gone;
* **source**: a template file is at most :data:`MAX_TEMPLATE_CHARS` characters.

A bound that is hit raises :class:`TemplateLimitError` (a Jinja ``TemplateRuntimeError``)
from inside the template's own frames, so :func:`template_location` finds the template file and
line as it does for any other template error; callers turn that into their own
:class:`~diagkit.errors.DiagkitError` (``BundleError`` for reports, ``ConfigError`` for customer
updates), worded by :func:`template_problem`. Render with :func:`render_bounded`, not ``Template.render``.
"""

from __future__ import annotations

import functools
import re
import string
import time
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import Any, cast

import jinja2
import jinja2.sandbox
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

#: Items of one ``range()`` (the sandbox's own limit).
MAX_RANGE = 100_000
#: Loop iterations in one render, all loops together.
MAX_ITERATIONS = 5_000_000
#: Largest integer a template may compute, in bits (about 3,000 decimal digits).
MAX_INT_BITS = 10_000
#: Largest template file.
MAX_TEMPLATE_CHARS = 1_000_000
#: The hidden filters every ``{% for %}`` loop's iterable and every ``~`` result are wrapped
#: in (see :class:`_Guards`).
_LOOP_GUARD = "diagkit_loop_guard"
_SIZE_GUARD = "diagkit_size_guard"

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?")
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)


class TemplateLimitError(jinja2.TemplateRuntimeError):
    """A template went past a size or time bound (the message says which)."""


def template_location(exc: BaseException) -> tuple[str, int | None]:
    """The template file and line an exception came from (Jinja rewrites tracebacks so the
    template's frames carry its file name and source line)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name or "<template>", exc.lineno
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.endswith(".jinja2") or f.filename == "<template>"
    ]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return "<template>", None


def template_problem(exc: BaseException) -> tuple[str, str]:
    """``(where, what)`` of an exception a template raised, for a message: ``where`` its file
    and line (:func:`template_location`), ``what`` the problem in words."""
    path, line = template_location(exc)
    where = f"{path}, line {line}" if line else path
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    message = message.rstrip(".")  # Jinja's own messages end with one; callers add the next step
    if isinstance(exc, TemplateLimitError):
        what = f"stopped at a limit: {message}"
    elif isinstance(exc, jinja2.sandbox.SecurityError):
        what = f"refused by the template sandbox: {message}"
    elif isinstance(exc, jinja2.UndefinedError):
        what = f"missing variable or attribute: {message}"
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        what = f"syntax error: {message}"
    elif isinstance(exc, jinja2.TemplateNotFound):
        what = f"template not found: {message}"
    elif isinstance(exc, RecursionError):
        what = "it calls or includes itself without end"
    else:
        what = f"{type(exc).__name__}: {message}"
    return where, what


def _int_args(args: Iterable[Any]) -> Iterator[int]:
    return (a for a in args if isinstance(a, int) and not isinstance(a, bool))


def _str_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value)) if value is not None else 0


def _percent_size(fmt: str, values: Any) -> int:
    """An upper bound of ``len(fmt % values)``."""
    items = list(values.values()) if isinstance(values, Mapping) else (
        list(values) if isinstance(values, tuple) else [values])
    widths = 0
    for m in _PERCENT_SPEC.finditer(fmt):
        for part in m.groups():
            if part and part != "*":
                widths += int(part)
    if "*" in fmt:  # widths taken from the values
        widths += sum(abs(v) for v in _int_args(items))
    return len(fmt) + widths + sum(_str_len(v) for v in items)


def _format_size(fmt: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """An upper bound of ``len(fmt.format(*args, **kwargs))``."""
    values = [*args, *kwargs.values()]
    longest = max((_str_len(v) for v in values), default=0)
    size = 0
    for literal, field, spec, _conversion in string.Formatter().parse(fmt):
        size += len(literal)
        if field is not None:
            size += longest + sum(int(n) for n in re.findall(r"\d+", spec or ""))
            if spec and "{" in spec:  # a nested width: it is one of the arguments
                size += sum(abs(v) for v in _int_args(values))
    return size


class _Guards(NodeTransformer):
    """Rewrites a parsed template so that what Jinja has no hook for still checks the bounds:
    every loop iterates through the loop guard (a loop with an empty body still checks the
    clock and counts its iterations), and every ``a ~ b`` result goes through the size guard
    (``~`` is not an operator the sandbox can intercept)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_GUARD, [], [], None, None,
                                 lineno=node.iter.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _SIZE_GUARD, [], [], None, None, lineno=node.lineno)


class BoundedSandbox(SandboxedEnvironment):
    """A :class:`SandboxedEnvironment` whose renders are bounded in size and time (see the
    module docstring). ``max_output`` is in characters, ``time_budget`` in seconds from now."""

    intercepted_binops = frozenset({"*", "+", "%", "**"})

    def __init__(self, *, max_output: int, time_budget: float, what: str = "template",
                 **options: Any) -> None:
        super().__init__(**options)
        self.max_output = max_output
        self.time_budget = time_budget
        self.what = what
        self.deadline = time.monotonic() + time_budget
        self.concat = self._concat  # type: ignore[method-assign]
        self._user_finalize = self.finalize
        self.finalize = self._finalize
        self.globals["range"] = self._range
        self.globals.pop("lipsum", None)
        self.filters[_LOOP_GUARD] = self._loop_guard
        self.filters[_SIZE_GUARD] = self._size_guard
        self._work = 0
        self._iterations = 0

    # --- the bounds ----------------------------------------------------------------------------

    def _fail(self, why: str) -> TemplateLimitError:
        return TemplateLimitError(f"{why} (a {self.what} is limited to "
                                  f"{self.max_output:,} characters and {self.time_budget:g} s)")

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise self._fail(f"rendering took longer than {self.time_budget:g} s")

    def check_size(self, size: int, what: str) -> None:
        if size > self.max_output:
            raise self._fail(f"{what} would be {size:,} characters or items long")

    def _check_int(self, value: int, what: str) -> None:
        if abs(value) > self.max_output:
            raise self._fail(f"{what} {value:,} is larger than {self.max_output:,}")

    def _check_result(self, value: Any, what: str) -> Any:
        if isinstance(value, _SIZED):
            self.check_size(len(value), what)
        elif isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise self._fail(f"{what} gives an integer of {value.bit_length():,} bits")
        return value

    def _add_work(self, size: int) -> None:
        self._work += size
        if self._work > 4 * self.max_output:
            raise self._fail(f"the template built {self._work:,} characters of text in all")
        self.check_time()

    def _finalize(self, value: Any) -> Any:
        """Every ``{{ ... }}`` output: the caller's ``finalize``, then counted."""
        if self._user_finalize is not None:
            value = self._user_finalize(value)
        if not isinstance(value, str) and value is not None and not hasattr(value, "__html__"):
            value = str(value)
        if isinstance(value, str):
            self._add_work(len(value))
        return value

    def _concat(self, parts: Iterable[str]) -> str:
        """Joins every buffered text the template builds (see the module docstring)."""
        parts = parts if isinstance(parts, list) else list(parts)
        size = sum(map(len, parts))
        self.check_size(size, "a text built by the template")
        self._add_work(size)
        return "".join(parts)

    def _size_guard(self, value: Any) -> Any:
        return self._check_result(value, "the result of '~'")

    def _range(self, *args: int) -> range:
        self.check_time()
        rng = range(*args)
        if len(rng) > MAX_RANGE:
            raise self._fail(f"range() of {len(rng):,} items is more than {MAX_RANGE:,}")
        return rng

    def _loop_guard(self, iterable: Any) -> Iterator[Any]:
        self.check_time()
        for n, item in enumerate(iterable):
            self._iterations += 1
            if self._iterations > MAX_ITERATIONS:
                raise self._fail(f"the loops ran more than {MAX_ITERATIONS:,} times in all")
            if not n & 0x3FF:
                self.check_time()
            yield item

    def start(self) -> None:
        """Reset the size counters for one render (the time budget keeps running)."""
        self._work = 0
        self._iterations = 0

    # --- Jinja's hooks -------------------------------------------------------------------------

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_TEMPLATE_CHARS:
            raise jinja2.TemplateSyntaxError(
                f"the template is {len(source):,} characters long; at most "
                f"{MAX_TEMPLATE_CHARS:,} are read", 1, name, filename)
        return _Guards().visit(super()._parse(source, name, filename))

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.check_time()
        return super().getitem(obj, argument)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        self.check_time()
        both_int = all(isinstance(v, int) for v in (left, right))
        if operator == "*":
            if both_int:
                if abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS:
                    raise self._fail("'*' gives an integer of more than "
                                     f"{MAX_INT_BITS:,} bits")
            else:
                seq, n = (left, right) if isinstance(right, int) else (right, left)
                if isinstance(seq, _SIZED) and isinstance(n, int):
                    self.check_size(len(seq) * max(n, 0), "the result of '*'")
        elif operator == "**":
            if both_int and right > 0 and abs(left) > 1 \
                    and abs(left).bit_length() * right > MAX_INT_BITS:
                raise self._fail(f"'**' gives an integer of more than {MAX_INT_BITS:,} bits")
        elif operator == "+":
            if isinstance(left, _SIZED) and isinstance(right, _SIZED):
                self.check_size(len(left) + len(right), "the result of '+'")
        elif operator == "%" and isinstance(left, str):
            self.check_size(_percent_size(left, right), "the result of '%'")
        return self._check_result(super().call_binop(context, operator, left, right),
                                  f"the result of {operator!r}")

    def call(self, context: jinja2.runtime.Context, obj: Any, /, *args: Any,
             **kwargs: Any) -> Any:
        self.check_time()
        for value in _int_args((*args, *kwargs.values())):
            self._check_int(value, "an argument")
        args = self._precheck_method(obj, args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        return self._check_result(result, f"calling {getattr(obj, '__name__', 'it')}()")

    def _precheck_method(self, obj: Any, args: tuple[Any, ...],
                         kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        """Refuse a ``str``/``list`` method call whose result would be too large; returns the
        arguments to call it with (an iterator given to ``join`` is read once, here)."""
        target = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        what = f"the result of {name}()"
        if isinstance(owner, str):
            if name in ("ljust", "rjust", "center", "zfill") and args:
                self.check_size(max(len(owner), args[0]), what)
            elif name == "expandtabs":
                tab = args[0] if args else kwargs.get("tabsize", 8)
                self.check_size(len(owner) + owner.count("\t") * max(tab, 0), what)
            elif name == "replace" and len(args) >= 2:
                self.check_size(_replace_size(owner, *args[:3]), what)
            elif name == "join" and args:
                items = list(args[0])
                self.check_size(sum(_str_len(i) for i in items)
                                + len(owner) * max(len(items) - 1, 0), what)
                args = (items, *args[1:])
            elif name == "translate" and args and isinstance(args[0], Mapping):
                longest = max((len(v) for v in args[0].values() if isinstance(v, str)),
                              default=1)
                self.check_size(len(owner) * max(longest, 1), what)
            elif name == "format":
                self.check_size(_format_size(owner, args, kwargs), what)
            elif name == "format_map" and args and isinstance(args[0], Mapping):
                self.check_size(_format_size(owner, (), args[0]), what)
        elif isinstance(owner, list):
            if name == "extend" and args:
                items = list(args[0])
                self.check_size(len(owner) + len(items), what)
                args = (items, *args[1:])
            elif name in ("append", "insert"):
                self.check_size(len(owner) + 1, what)
        return args

    def guard_filters(self) -> None:
        """Wrap every filter (built-in and added) in the time and size checks; call it after
        adding filters and before rendering (:func:`render_bounded` does)."""
        for name, func in list(self.filters.items()):
            if name in (_LOOP_GUARD, _SIZE_GUARD) or getattr(func, "_diagkit_guarded", False):
                continue
            self.filters[name] = self._guard_filter(name, func)

    def _guard_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
        env = self

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            env.check_time()
            value, rest = (args[skip], args[skip + 1:]) if len(args) > skip else (None, ())
            for n in _int_args((*rest, *kwargs.values())):
                env._check_int(n, f"an argument of |{name}")
            env._precheck_filter(name, value, rest, kwargs)
            return env._check_result(func(*args, **kwargs), f"the result of |{name}")

        guarded._diagkit_guarded = True  # type: ignore[attr-defined]
        return guarded

    def _precheck_filter(self, name: str, value: Any, args: tuple[Any, ...],
                         kwargs: Mapping[str, Any]) -> None:
        what = f"the result of |{name}"
        if not isinstance(value, str):
            if name == "join" and isinstance(value, list | tuple):
                sep = args[0] if args else kwargs.get("d", "")
                self.check_size(sum(_str_len(v) for v in value)
                                + _str_len(sep) * max(len(value) - 1, 0), what)
            return
        if name == "replace" and len(args) >= 2:
            self.check_size(_replace_size(value, *args[:3]), what)
        elif name == "indent":
            width = args[0] if args else kwargs.get("width", 4)
            per_line = width if isinstance(width, int) else _str_len(width)
            self.check_size(len(value) + (value.count("\n") + 1) * max(per_line, 0), what)
        elif name == "center":
            width = args[0] if args else kwargs.get("width", 80)
            self.check_size(max(len(value), width if isinstance(width, int) else 0), what)
        elif name == "format":
            self.check_size(_percent_size(value, kwargs or tuple(args)), what)
        elif name == "wordwrap":
            width = args[0] if args else kwargs.get("width", 79)
            wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
            lines = len(value) // max(width if isinstance(width, int) else 1, 1) + 1
            self.check_size(len(value) + lines * _str_len(wrap), what)
        elif name == "urlize":
            extra = sum(_str_len(a) for a in (*args, *kwargs.values()) if isinstance(a, str))
            self.check_size(len(value) * (2 + extra), what)


def _replace_size(text: str, old: Any, new: Any, count: Any = -1) -> int:
    old, new = str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


def render_bounded(env: BoundedSandbox, name: str, context: Mapping[str, Any]) -> str:
    """Render template ``name`` within ``env``'s bounds; :class:`TemplateLimitError` (or any
    other template error) when it cannot be."""
    env.guard_filters()
    env.start()
    env.check_time()
    template = env.get_template(name)
    chunks: list[str] = []
    size = 0
    # Template.generate is a generator function (throw() is what stops it where it is); Jinja
    # annotates it as a plain Iterator[str].
    stream = cast(Generator[str, None, None], template.generate(**context))
    for chunk in stream:
        size += len(chunk)
        chunks.append(chunk)
        if size > env.max_output or time.monotonic() > env.deadline:
            # Raised inside the template, at the line that produced the chunk, so the error
            # names it; Jinja's own handler re-raises it with the template's traceback.
            why = (f"the output is more than {env.max_output:,} characters"
                   if size > env.max_output else
                   f"rendering took longer than {env.time_budget:g} s")
            stream.throw(env._fail(why))
    return "".join(chunks)


__all__ = ["MAX_INT_BITS", "MAX_ITERATIONS", "MAX_RANGE", "MAX_TEMPLATE_CHARS", "BoundedSandbox",
           "TemplateLimitError", "render_bounded", "template_location", "template_problem"]
