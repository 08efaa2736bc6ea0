"""The choice between the mypyc-compiled order path and its source (`tradewire._native`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import typing
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from tradewire import _native
from tradewire.model import AccountId, ClientOrderId, OrderAccepted, Quantity
from tradewire.model.events import OrderInitialized

PACKAGE = Path(_native.__file__).parent
PROBE = (
    "import tradewire._native as n, tradewire.model.orders as o, tradewire.model.events as e\n"
    "print(n.IMPLEMENTATION); print(n.REASON); print(o.__file__); print(e.__file__)\n"
)


def _probe(env_extra: dict[str, str], pythonpath: Path | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_PYTHON_ENV} | env_extra
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def _fake_package(tmp_path: Path) -> Path:
    """The compiled modules' sources, each with an (empty) extension file beside it, and a current manifest."""
    pkg = tmp_path / "tradewire"
    hashes = {}
    for module in _native.NATIVE_MODULES:
        src = _native.source_path(module)
        dst = _native.source_path(module, pkg)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
        dst.with_name(dst.stem + EXTENSION_SUFFIXES[0]).touch()
        hashes[module] = _native.source_sha256(dst)
    (pkg / _native.MANIFEST_NAME).write_text(json.dumps({"modules": hashes}))
    return pkg


def test_a_complete_current_build_is_accepted_and_each_defect_is_named(tmp_path):
    pkg = _fake_package(tmp_path)
    assert _native.check_build(pkg) == ""
    first = _native.NATIVE_MODULES[0]
    src = _native.source_path(first, pkg)
    src.write_text(src.read_text() + "\n# edited after the build\n")
    assert "changed since the build" in _native.check_build(pkg) and str(src) in _native.check_build(pkg)
    manifest = json.loads((pkg / _native.MANIFEST_NAME).read_text())
    manifest["modules"][first] = _native.source_sha256(src)
    del manifest["modules"][_native.NATIVE_MODULES[-1]]
    (pkg / _native.MANIFEST_NAME).write_text(json.dumps(manifest))
    assert _native.check_build(pkg) == f"{_native.NATIVE_MODULES[-1]} was not compiled"
    manifest["modules"][_native.NATIVE_MODULES[-1]] = "0" * 64
    (pkg / _native.MANIFEST_NAME).write_text(json.dumps(manifest))
    ext = _native.source_path(_native.NATIVE_MODULES[-1], pkg).with_suffix("")
    ext.with_name(ext.name + EXTENSION_SUFFIXES[0]).unlink()
    assert "extension of" in _native.check_build(pkg)
    (pkg / _native.MANIFEST_NAME).write_text("{not json")
    assert "unreadable manifest" in _native.check_build(pkg)
    (pkg / _native.MANIFEST_NAME).unlink()
    assert _native.check_build(pkg).startswith("not built")


def test_the_environment_variable_forces_every_module_from_source():
    impl, reason, orders, events = _probe({_native.PURE_PYTHON_ENV: "1"})
    assert (impl, reason) == ("interpreted", f"forced by {_native.PURE_PYTHON_ENV}")
    assert orders.endswith("orders.py") and events.endswith("events.py")


def test_the_installed_build_is_used_exactly_when_it_is_current():
    impl, reason, orders, events = _probe({})
    problem = _native.check_build()
    if problem:  # no build here (no C compiler) or a source edited since: all from source, and it says why
        assert (impl, reason) == ("interpreted", problem)
        assert orders.endswith(".py") and events.endswith(".py")
    else:
        assert impl == "native" and not orders.endswith(".py") and not events.endswith(".py")


@pytest.mark.skipif(_native.check_build() != "", reason="needs the native build (pip install -e . with a C compiler)")
def test_a_source_edited_after_the_build_runs_everything_from_source(tmp_path):
    shutil.copytree(PACKAGE.parent, tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    edited = _native.source_path("tradewire.model.orders", tmp_path / "src" / "tradewire")
    edited.write_text(edited.read_text() + "\n# edited after the build\n")
    impl, reason, orders, events = _probe({}, pythonpath=tmp_path / "src")
    assert impl == "interpreted" and "changed since the build" in reason
    assert orders == str(edited) and events.endswith("events.py")  # all or nothing, not only the edited one


def test_type_hints_of_compiled_classes_come_from_the_source():
    hints = _native.type_hints(OrderAccepted)
    assert hints["account_id"] == AccountId | None and hints["client_order_id"] is ClientOrderId
    assert _native.type_hints(OrderInitialized)["linked_order_ids"] == tuple[ClientOrderId, ...]
    assert _native.type_hints(OrderInitialized)["quantity"] is Quantity
    assert list(_native.type_hints(OrderAccepted)) == list(typing.get_type_hints(OrderAccepted))
