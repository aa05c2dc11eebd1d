"""Names of a package imported from its submodules on first use (PEP 562), so importing it stays light."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def attributes(package: str, sources: Mapping[str, str],
               names: Iterable[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``.

    ``sources`` maps each lazily imported name to the submodule (relative to
    ``package``) that defines it; a name is imported on first access and then
    kept in the package's namespace. ``names`` (the package's ``__all__``)
    are listed by ``dir()`` before they are imported.

    Examples
    --------
    >>> getattr_, dir_ = attributes("spectro.simulate", {"xes": "_xes"}, ["xes"])
    >>> getattr_("xes").__name__, "xes" in dir_()
    ('xes', True)
    """
    listed = set(names)

    def __getattr__(name: str) -> Any:
        if name in sources:
            value = getattr(importlib.import_module(f".{sources[name]}", package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | listed)

    return __getattr__, __dir__
