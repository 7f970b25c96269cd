"""Find adapters through the `harness.adapters` entry point group: built-ins and plugins alike."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Any

from harness.errors import UserError

GROUP = "harness.adapters"


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    target: str
    package: str
    version: str
    tasks: tuple[str, ...] = ()
    error: str | None = None


def entry_points() -> dict[str, metadata.EntryPoint]:
    """Every registered adapter by name (the first registration of a name wins, as Python's path order says)."""
    found: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def load_class(name: str) -> type:
    """The adapter class registered as `name`; unknown names suggest the nearest registered one."""
    from harness.adapters.base import Adapter, MissingDependency
    from harness.errors import unknown_name_error

    eps = entry_points()
    if name not in eps:
        raise unknown_name_error("adapter", name, eps, field_name="adapter")
    ep = eps[name]
    try:
        cls = ep.load()
    except ImportError as err:
        module = (getattr(err, "name", None) or str(err)).split(".")[0]
        raise MissingDependency(f"adapter {name} ({ep.value}) needs the '{module}' module: "
                                f"pip install {module}") from None
    except Exception as err:  # noqa: BLE001 - a plugin whose module fails to load: its author's bug, one line
        raise UserError(f"adapter {name}: entry point {ep.value} failed to load ({type(err).__name__}: {err})",
                        field="adapter") from None
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise UserError(f"entry point {ep.value} is not a harness.adapters.base.Adapter subclass",
                        field="adapter")
    return cls


def create(name: str, options: dict[str, Any] | None = None) -> Any:
    """An adapter instance; option errors name the adapter and the option."""
    cls = load_class(name)
    return cls(**(options or {}))


def describe() -> list[AdapterInfo]:
    """What `harness adapters list` shows; an adapter that fails to load is listed with the reason."""
    rows = []
    for name, ep in sorted(entry_points().items()):
        dist = getattr(ep, "dist", None)
        package = dist.metadata["Name"] if dist is not None else "?"
        version = dist.version if dist is not None else "?"
        try:
            cls = load_class(name)
            rows.append(AdapterInfo(name, ep.value, package, version, tuple(cls.tasks)))
        except UserError as err:
            rows.append(AdapterInfo(name, ep.value, package, version, (), err.message))
    return rows


def package_of(name: str) -> tuple[str, str]:
    """(distribution name, version) that registered adapter `name`."""
    ep = entry_points().get(name)
    dist = getattr(ep, "dist", None) if ep else None
    return (dist.metadata["Name"], dist.version) if dist is not None else ("?", "?")


def option_rows(cls: type) -> list[dict]:
    """An adapter's options as `harness adapters show` prints them: name, type, default, help (with limits)."""
    from harness.options import kind_name

    rows = []
    for option in cls.options:
        limits = []
        if option.choices:
            limits.append(f"one of: {', '.join(map(str, option.choices))}")
        if option.minimum is not None:
            limits.append(f"at least {option.minimum:g}")
        if option.maximum is not None:
            limits.append(f"at most {option.maximum:g}")
        default = "(required)" if option.required else _shown_default(option.default)
        rows.append({"option": option.name, "type": kind_name(option.kind), "default": default,
                     "help": option.help + (f" ({'; '.join(limits)})" if limits else "")})
    return rows


def _shown_default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def details(name: str) -> dict:
    """Everything `harness adapters show NAME` prints, read from the adapter class itself."""
    import inspect

    cls = load_class(name)
    ep = entry_points()[name]
    package, version = package_of(name)
    return {"name": name, "entry_point": ep.value, "class": f"{cls.__module__}.{cls.__qualname__}",
            "package": package, "package_version": version, "tasks": list(cls.tasks),
            "reads_gold": bool(cls.reads_gold), "deterministic": bool(cls.deterministic),
            "cacheable": bool(cls.cacheable), "doc": inspect.cleandoc(cls.__doc__ or ""),
            "options": option_rows(cls)}
