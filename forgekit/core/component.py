"""Components: objects that remember how they were made.

A component records the arguments it was constructed with, has a ``type`` name and a
schema version, and turns into plain data with ``config()``; ``build_component`` (or
``Cls.from_config``) makes an equal object from that data. YAML and JSON are two ways
to write the same objects, and a run's identity is the hash of these configs.

    class BestOfN(Component, type="best_of_n", kind="solver"):
        def __init__(self, inner, *, n: int = 5) -> None: ...

    best = BestOfN(PromptSolver("{input}"), n=3)
    best.config()   # {"type": "best_of_n", "version": 1, "inner": {"type": "prompt", ...}, "n": 3}
    build_component(best.config()) == best   # True

Rules, kept in this one place:
- ``config()`` holds the arguments that differ from the constructor's defaults (so a new
  argument with a default does not change the identity of configs saved before it).
- Nested components become their configs; pydantic models their JSON dump; functions
  and classes their import reference ``"module:qualname"`` (a constructor that takes a
  callable also accepts that string: resolve it with ``resolve_ref``); paths become text.
- On rebuild, a nested dict whose ``type`` is a registered component is built, except
  under the argument names a class lists in ``raw_args`` (kept as data).
- Pydantic models can be components too (``register_component``): their config is their
  ``model_dump`` plus ``type``/``version``.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import importlib
import inspect
from collections.abc import Callable
from enum import Enum
from pathlib import PurePath
from typing import Any, ClassVar

from forgekit.core.errors import ConfigError
from forgekit.core.hashing import stable_hash

# type name -> class (or factory); one namespace for every kind, so `type` is
# unambiguous everywhere
_REGISTRY: dict[str, Any] = {}
_KINDS: dict[str, str] = {}
_VERSIONS: dict[str, int] = {}
_ALIASES: dict[str, str] = {}  # old type name -> current one
# while hashing, an unimportable function is identified by its source instead of failing
_LENIENT: contextvars.ContextVar[bool] = contextvars.ContextVar("fk_lenient", default=False)

TYPE_KEY = "type"
VERSION_KEY = "version"


class Component:
    """Base class of objects that record their constructor arguments.

    Subclasses name themselves in the class statement:
    ``class Foo(Component, type="foo", kind="solver", version=1)``. A subclass without a
    ``type`` inherits its parent's recording but is not registered.
    """

    component_type: ClassVar[str | None] = None
    component_kind: ClassVar[str] = "component"
    schema_version: ClassVar[int] = 1
    # arguments kept as data on rebuild (never built into components)
    raw_args: ClassVar[frozenset[str]] = frozenset()
    # arguments that are not part of what the object is (a live feedback provider, a
    # scratch workspace): left out of the config and the identity
    runtime_args: ClassVar[frozenset[str]] = frozenset()
    _component_args: dict[str, Any]

    def __init_subclass__(
        cls,
        *,
        type: str | None = None,  # noqa: A002 - the discriminator's name is `type`
        kind: str | None = None,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            # the class's own constructor, wrapped to record its arguments
            cls.__init__ = _recording_init(cls, cls.__dict__["__init__"])  # type: ignore[method-assign]
        if kind is not None:
            cls.component_kind = kind
        if version is not None:
            cls.schema_version = version
        if type is not None:
            cls.component_type = type
            _register(cls, type, cls.component_kind, cls.schema_version)
        elif "component_type" not in cls.__dict__:
            cls.component_type = None

    # -- data --------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """This object as plain data: ``type``, ``version`` and its non-default arguments."""
        tname = type(self).component_type
        if tname is None:
            raise ConfigError(
                f"{type(self).__name__} has no component type: declare it with "
                f"class {type(self).__name__}(..., type='name')"
            )
        out: dict[str, Any] = {TYPE_KEY: tname, VERSION_KEY: type(self).schema_version}
        for key, value in self.config_args().items():
            out[key] = to_data(value, where=f"{tname}.{key}")
        return out

    def config_args(self) -> dict[str, Any]:
        """The arguments the config holds: by default those the constructor was given
        (minus defaults and `runtime_args`). Override to give one canonical form when
        several spellings build the same object."""
        args = getattr(self, "_component_args", {})
        skip = type(self).runtime_args
        return {k: v for k, v in args.items() if k not in skip}

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> Any:
        """The object `data` describes (its ``type`` must be this class or a subclass)."""
        obj = build_component(data)
        if not isinstance(obj, cls):
            raise ConfigError(
                f"config of type {data.get(TYPE_KEY)!r} builds a {type(obj).__name__}, "
                f"not a {cls.__name__}",
                key=TYPE_KEY,
            )
        return obj

    @classmethod
    def migrate_config(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Turn a config saved at an older schema `version` into the current one.

        The default accepts it unchanged (the constructor then checks the arguments);
        override when a version renamed or removed an argument."""
        return data

    def config_hash(self) -> str:
        return config_hash(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Component) or type(other) is not type(self):
            return NotImplemented
        return config_of(self) == config_of(other)

    def __hash__(self) -> int:
        return hash(config_hash(self))


def _recording_init(cls: type, init: Callable[..., None]) -> Callable[..., None]:
    sig = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # only the outermost constructor records: a subclass's super().__init__ call
        # must not replace what the subclass was given
        outer = "_component_args" not in self.__dict__
        if outer:
            self.__dict__["_component_args"] = _given_args(sig, self, args, kwargs)
        init(self, *args, **kwargs)

    __init__.__signature__ = sig  # type: ignore[attr-defined]  # read by inspect.signature
    return __init__


def _given_args(sig: inspect.Signature, self: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = sig.bind(self, *args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{type(self).__name__}: {e}") from None
    out: dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        param = sig.parameters[name]
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                out[name] = list(value)
        elif param.default is inspect.Parameter.empty or not _same(value, param.default):
            out[name] = value
    return out


def _same(value: Any, default: Any) -> bool:
    try:
        return bool(value == default) and type(value) is type(default)
    except Exception:  # noqa: BLE001 - an odd __eq__ means "not the default"
        return False


# -- the registry ------------------------------------------------------------------------
def _register(cls: Any, type_name: str, kind: str, version: int, *,
              replace: bool = False) -> None:
    old = _REGISTRY.get(type_name)
    if replace and old is not None and _KINDS[type_name] != kind:
        raise ConfigError(
            f"{type_name!r} is already a {_KINDS[type_name]} type; a {kind} cannot take "
            f"its name"
        )
    if not replace and old is not None and f"{old.__module__}.{old.__qualname__}" != (
        f"{cls.__module__}.{cls.__qualname__}"
    ):
        raise ConfigError(
            f"component type {type_name!r} is taken by {old.__module__}.{old.__qualname__}; "
            f"choose another name for {cls.__module__}.{cls.__qualname__}"
        )
    _REGISTRY[type_name] = cls
    _KINDS[type_name] = kind
    _VERSIONS[type_name] = version


def register_component(
    cls: Any,
    *,
    type: str,  # noqa: A002
    kind: str = "component",
    version: int = 1,
    replace: bool = False,
) -> Any:
    """Register what is not a `Component` subclass under `type`: a pydantic model (its
    config is its dump), or a factory function called with the config's fields (for
    objects such as scorers that are one class with many types). `replace` lets a later
    registration of the same kind take the name over (as re-running a notebook cell
    does). Returns `cls`."""
    _register(cls, type, kind, version, replace=replace)
    return cls


def register_alias(old: str, new: str) -> None:
    """Configs saved with type `old` load as type `new` (a renamed or merged type)."""
    _ALIASES[old] = new


def registered_components(kind: str | None = None) -> dict[str, type]:
    """Type name -> class, of one kind (solver, scorer, termination, ...) or all."""
    _load_builtin_layers()
    return {
        name: cls for name, cls in sorted(_REGISTRY.items())
        if kind is None or _KINDS[name] == kind
    }


def component_type_of(obj: Any) -> str | None:
    """The registered type name of `obj` (None for an unregistered object)."""
    if isinstance(obj, Component):
        return type(obj).component_type
    return _type_of_class(type(obj))


def component_kind(type_name: str) -> str | None:
    return _KINDS.get(type_name)


_loaded = False


def _load_builtin_layers() -> None:
    """Import the modules that define forgekit's own component types (listed by the
    package, `forgekit.COMPONENT_MODULES`), once, when a type is looked up."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in importlib.import_module("forgekit").COMPONENT_MODULES:
        importlib.import_module(module)


# -- to data -----------------------------------------------------------------------------
def to_data(value: Any, *, where: str = "config") -> Any:
    """`value` as JSON-able data, by the rules in the module docstring."""
    from pydantic import BaseModel

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Component):
        return value.config()
    own = getattr(value, "__component_config__", None)
    if callable(own) and not isinstance(value, type):
        return to_data(own(), where=where)
    if isinstance(value, BaseModel):
        return _model_config(value)
    if isinstance(value, dict):
        return {str(k): to_data(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [to_data(v, where=f"{where}[{i}]") for i, v in enumerate(items)]
    if isinstance(value, type) or inspect.isfunction(value) or inspect.ismethod(value):
        return ref_of(value, where=where)
    config = getattr(value, "config", None)
    if callable(config):
        return to_data(config(), where=where)
    if _LENIENT.get():  # identity only: an opaque object counts by its class
        return {TYPE_KEY: "object", "class": _qualified(type(value))}
    raise ConfigError(
        f"cannot record a {type(value).__name__} as configuration; pass data, a "
        f"component, a pydantic model, or an importable function or class",
        key=where,
    )


def _model_config(model: Any) -> dict[str, Any]:
    data = model.model_dump(mode="json", exclude_defaults=True)
    tname = _type_of_class(type(model))
    if tname is not None:
        data = {TYPE_KEY: tname, VERSION_KEY: _VERSIONS[tname], **data}
    return data


def _type_of_class(cls: type) -> str | None:
    for name, registered in _REGISTRY.items():
        if registered is cls:
            return name
    return None


def ref_of(obj: Any, *, where: str = "config") -> str:
    """The import reference ``"module:qualname"`` of a function or class; an error for
    a lambda or a function defined inside another (they cannot be found again)."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        if _LENIENT.get():
            # under config_of (identity, not a saved config) a dict stands in for the ref
            return function_config(obj)  # type: ignore[return-value]
        label = qualname or repr(obj)
        raise ConfigError(
            f"{label} cannot be referenced from a config: define it at the top level of "
            f"an importable module (notebook cells and lambdas are not importable)",
            key=where,
        )
    return f"{module}:{qualname}"


def resolve_ref(ref: str | Callable[..., Any], *, key: str | None = None) -> Any:
    """The object a ``"module:qualname"`` reference names (a callable is returned as is)."""
    if not isinstance(ref, str):
        return ref
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise ConfigError(
            f"{ref!r} is not a reference: write 'package.module:function'", key=key
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError(f"cannot import {module_name!r} for {ref!r}: {e}", key=key) from e
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"{module_name!r} has no {qualname!r} (from {ref!r})",
                              key=key) from None
    return obj


# -- from data ---------------------------------------------------------------------------
def is_component_config(value: Any) -> bool:
    if not isinstance(value, dict) or not isinstance(value.get(TYPE_KEY), str):
        return False
    if value[TYPE_KEY] not in _REGISTRY:
        _load_builtin_layers()
    return value[TYPE_KEY] in _REGISTRY or value[TYPE_KEY] in _ALIASES


def build_component(data: dict[str, Any], *, kind: str | None = None,
                    where: str | None = None) -> Any:
    """The object a config describes. `kind` restricts the accepted types (e.g.
    ``"solver"``); `where` names the place in a file for error messages."""
    if not isinstance(data, dict):
        raise ConfigError(f"a component config is a mapping, got {type(data).__name__}",
                          key=where)
    tname = data.get(TYPE_KEY)
    if tname not in _REGISTRY:
        _load_builtin_layers()
    if isinstance(tname, str) and tname not in _REGISTRY and tname in _ALIASES:
        tname = _ALIASES[tname]
    if tname in ("function", "callable", "object"):
        raise ConfigError(
            f"{data.get('name') or data.get('class')!r} is a function defined in a notebook "
            "cell or a lambda: it cannot be rebuilt from a config; define it in a module",
            key=where,
        )
    if not isinstance(tname, str) or tname not in _REGISTRY:
        known = ", ".join(registered_components(kind))
        what = f"{kind} type" if kind else "component type"
        raise ConfigError(f"unknown {what} {tname!r}; known: {known}",
                          key=f"{where}.type" if where else TYPE_KEY)
    if kind is not None and _KINDS[tname] != kind:
        raise ConfigError(f"{tname!r} is a {_KINDS[tname]}, not a {kind}", key=where)
    cls = _REGISTRY[tname]
    body = {k: v for k, v in data.items() if k not in (TYPE_KEY, VERSION_KEY)}
    saved = data.get(VERSION_KEY, _VERSIONS[tname])
    current = _VERSIONS[tname]
    if not isinstance(saved, int) or saved > current:
        raise ConfigError(
            f"{tname!r} config has schema version {saved!r}, newer than this forgekit's "
            f"{current}; upgrade forgekit to load it",
            key=f"{where}.version" if where else VERSION_KEY,
        )
    if saved < current:
        migrate = getattr(cls, "migrate_config", None)
        if migrate is None:
            raise ConfigError(
                f"{tname!r} config has schema version {saved}; this forgekit reads "
                f"version {current} and cannot convert it",
                key=where,
            )
        body = migrate(body, saved)
    raw: frozenset[str] = getattr(cls, "raw_args", frozenset())
    kwargs = {
        k: v if k in raw else _from_data(v, where=f"{where or tname}.{k}")
        for k, v in body.items()
    }
    from pydantic import BaseModel, ValidationError

    if isinstance(cls, type) and issubclass(cls, BaseModel):
        try:
            return cls.model_validate(kwargs)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{tname}: {first['msg']}",
                              key=f"{where or tname}.{loc}") from e
    return _call_with(cls, kwargs, tname, where)


def _from_data(value: Any, *, where: str) -> Any:
    if is_component_config(value):
        return build_component(value, where=where)
    if isinstance(value, list):
        return [_from_data(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _from_data(v, where=f"{where}.{k}") for k, v in value.items()}
    return value


def _call_with(cls: Any, kwargs: dict[str, Any], tname: str, where: str | None) -> Any:
    sig = inspect.signature(cls)
    params = list(sig.parameters.values())
    args: list[Any] = []
    rest = dict(kwargs)
    takes_extra = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    for p in params:
        if p.kind is inspect.Parameter.POSITIONAL_ONLY and p.name in rest:
            args.append(rest.pop(p.name))
        elif p.kind is inspect.Parameter.VAR_POSITIONAL and p.name in rest:
            args.extend(rest.pop(p.name))
    named = {p.name for p in params if p.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
    unknown = sorted(k for k in rest if k not in named)
    if unknown and not takes_extra:
        raise ConfigError(
            f"{tname}: unknown field(s) {', '.join(unknown)}; accepted: "
            f"{', '.join(sorted(named)) or '(none)'}",
            key=f"{where or tname}.{unknown[0]}",
        )
    try:
        return cls(*args, **rest)
    except ConfigError:
        raise
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{tname}: {e}", key=where or tname) from e


# -- identity ----------------------------------------------------------------------------
def config_of(obj: Any) -> dict[str, Any]:
    """The config of any solver-like object: a component's ``config()``, a registered
    pydantic model's dump, a legacy object's own ``config()``, or for a plain function
    its reference and a hash of its source (so editing the function changes the id)."""
    token = _LENIENT.set(True)
    try:
        return _config_of(obj)
    finally:
        _LENIENT.reset(token)


def _config_of(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Component):
        return obj.config()
    own = getattr(obj, "__component_config__", None)
    if callable(own) and not isinstance(obj, type):
        return to_data(own())
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        return _model_config(obj)
    if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isbuiltin(obj):
        return function_config(obj)
    config = getattr(obj, "config", None)
    if callable(config):
        return to_data(config())
    if callable(obj):
        return {TYPE_KEY: "callable", "class": _qualified(type(obj)),
                "source_hash": _source_hash(type(obj))}
    raise ConfigError(f"{type(obj).__name__} has no config(): it cannot be identified")


def function_config(fn: Callable[..., Any]) -> dict[str, Any]:
    """A plain function's identity: where it is defined and the hash of its source."""
    return {
        TYPE_KEY: "function",
        "name": getattr(fn, "__qualname__", repr(fn)),
        "module": getattr(fn, "__module__", None),
        "source_hash": _source_hash(fn),
    }


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _source_hash(obj: Any) -> str:
    try:
        text = inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        text = repr((code.co_code, code.co_consts)) if code is not None else repr(obj)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def config_hash(obj: Any, length: int = 16) -> str:
    """The stable hash of `obj`'s config (see `config_of`)."""
    return stable_hash(config_of(obj), length=length)
