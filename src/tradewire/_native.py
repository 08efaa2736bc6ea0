"""Native (mypyc-compiled) build of the order path, and the choice between it and the source.

``setup.py`` compiles the modules in :data:`NATIVE_MODULES` with mypyc (the model, the message bus and
cache, the execution engine, the portfolio, the risk engine and the paper venue) and writes a manifest,
``_native.json`` beside this file, with the SHA-256 of each module's source. The compiled modules are
the same ``.py`` files; mypyc turns their classes into C extension types and checks the annotated types
of arguments and attributes at run time.

At import of :mod:`tradewire` (see :func:`activate`), the compiled modules are used only if the manifest
exists, lists every module of :data:`NATIVE_MODULES`, each extension file is present and each source file
still has the hash it was built from. Otherwise (no C compiler at install time, a source edited since the
build, or ``TRADEWIRE_PURE_PYTHON=1``) every one of them is loaded from its ``.py`` source. It is all or
nothing because compiled modules call each other directly: one stale module could otherwise run beside
the compiled copy of its old code. :data:`IMPLEMENTATION` and :data:`REASON` tell which was chosen.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import typing
from pathlib import Path
from typing import Any

PURE_PYTHON_ENV = "TRADEWIRE_PURE_PYTHON"
MANIFEST_NAME = "_native.json"
GROUP_NAME = "tradewire_native"

NATIVE_MODULES: tuple[str, ...] = (
    "tradewire.model.account",
    "tradewire.model.commands",
    "tradewire.model.data",
    "tradewire.model.enums",
    "tradewire.model.events",
    "tradewire.model.instruments",
    "tradewire.model.objects",
    "tradewire.model.orders",
    "tradewire.model.position",
    "tradewire.core.bus",
    "tradewire.core.cache",
    "tradewire.core.clock",
    "tradewire.execution.brackets",
    "tradewire.execution.emulator",
    "tradewire.execution.engine",
    "tradewire.execution.factory",
    "tradewire.execution.reports",
    "tradewire.portfolio.accounts",
    "tradewire.portfolio.conversion",
    "tradewire.portfolio.events",
    "tradewire.portfolio.figures",
    "tradewire.portfolio.portfolio",
    "tradewire.portfolio.trades",
    "tradewire.risk.checks",
    "tradewire.risk.config",
    "tradewire.risk.engine",
    "tradewire.risk.events",
    "tradewire.risk.rules",
    "tradewire.risk.working",
    "tradewire.venues.paper.book",
    "tradewire.venues.paper.config",
    "tradewire.venues.paper.durable",
    "tradewire.venues.paper.engine_state",
    "tradewire.venues.paper.execution",
    "tradewire.venues.paper.fills",
    "tradewire.venues.paper.lifecycle",
    "tradewire.venues.paper.matching",
    "tradewire.venues.paper.models",
    "tradewire.venues.paper.positions",
    "tradewire.venues.paper.sessions",
    "tradewire.venues.paper.state",
    "tradewire.venues.paper.timing",
)
"""Modules compiled by mypyc (dotted names; each is ``src/<name with / for .>.py``).

Left out on purpose, though on or near the order path: ``tradewire.model.identifiers`` (its classes
derive from ``str``), ``tradewire.execution.client`` (adapters override ``supports``/``oms_type`` as
class attributes, which compiled code would not see), ``tradewire.risk.state`` (a ``runtime_checkable``
protocol), ``tradewire.risk.sessions`` and ``tradewire.core.wal`` (calendar and file work off the hot
path whose tests replace functions that compiled callers would call directly)."""

_PACKAGE_DIR = Path(__file__).resolve().parent
_log = logging.getLogger(__name__)

IMPLEMENTATION = "interpreted"
"""``"native"`` (the mypyc-compiled modules are in use) or ``"interpreted"`` (all from source)."""
REASON = "not activated"
"""Why :data:`IMPLEMENTATION` was chosen, for logs and ``tradewire version``."""


def source_path(module: str, package_dir: Path = _PACKAGE_DIR) -> Path:
    """The ``.py`` file of ``module`` (a name from :data:`NATIVE_MODULES`) under ``package_dir``."""
    parts = module.split(".")
    if parts[0] != "tradewire":
        raise ValueError(f"not a tradewire module: {module}")
    return package_dir.joinpath(*parts[1:]).with_suffix(".py")


def source_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _extension_present(module: str, package_dir: Path) -> bool:
    stem = source_path(module, package_dir).with_suffix("")
    return any(stem.with_name(stem.name + suffix).is_file() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def check_build(package_dir: Path = _PACKAGE_DIR) -> str:
    """Return "" if the native build beside the sources is complete and current, else the reason it is not."""
    manifest = package_dir / MANIFEST_NAME
    if not manifest.is_file():
        return "not built (no C compiler or mypyc at install time?)"
    try:
        built = json.loads(manifest.read_text())["modules"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable manifest {manifest}: {exc}"
    for module in NATIVE_MODULES:
        if module not in built:
            return f"{module} was not compiled"
        if not _extension_present(module, package_dir):
            return f"the extension of {module} is missing"
        if source_sha256(source_path(module, package_dir)) != built[module]:
            return f"{source_path(module, package_dir)} changed since the build (rebuild: pip install -e .)"
    return ""


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Loads the compiled modules from their ``.py`` files (extension modules would win otherwise)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in NATIVE_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


@functools.cache
def _class_annotations(path: Path) -> dict[str, dict[str, str]]:
    """``{class name: {attribute: annotation source}}`` for the top-level classes of a source file."""
    out: dict[str, dict[str, str]] = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {
                st.target.id: ast.unparse(st.annotation)
                for st in node.body
                if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name)
            }
    return out


def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, also for a class of a compiled module.

    mypyc keeps only the runtime class of each annotation (``AccountId | None`` becomes ``type``), so for
    the classes of :data:`NATIVE_MODULES` the annotations are read from the ``.py`` source (same result
    compiled or not) and evaluated in the module's namespace, base classes first.

    Raises
    ------
    NameError
        If an annotation names something the module does not define.
    """
    if cls.__module__ not in NATIVE_MODULES:
        return typing.get_type_hints(cls)
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass.__module__ not in NATIVE_MODULES:
            continue
        module = sys.modules[klass.__module__]
        for name, text in _class_annotations(source_path(klass.__module__)).get(klass.__name__, {}).items():
            hints[name] = eval(text, vars(module))  # annotation text of our own source file
    return hints


def activate() -> None:
    """Choose the implementation once, before any compiled module is imported (called by ``tradewire``)."""
    global IMPLEMENTATION, REASON
    if os.environ.get(PURE_PYTHON_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        reason = f"forced by {PURE_PYTHON_ENV}"
    else:
        reason = check_build()
    if reason:
        if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _SourceFinder())
        IMPLEMENTATION, REASON = "interpreted", reason
        if (_PACKAGE_DIR / MANIFEST_NAME).is_file() and not reason.startswith("forced"):
            _log.warning("native build not used: %s; running the order path from source", reason)
    else:
        IMPLEMENTATION, REASON = "native", f"{len(NATIVE_MODULES)} modules compiled by mypyc"
