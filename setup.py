"""Build script for the compiled parts of tradewire (project metadata lives in pyproject.toml).

Two optional native parts; on a machine without a C compiler the install still succeeds and the
pure-Python source runs instead:

- ``tradewire.data._book_core`` (Cython): the L2 order book's level storage. ``tradewire.data.book``
  uses the pure-Python ``_book_pure`` when it is missing or stale (it logs which one is active at import
  and exposes it as ``tradewire.data.book.IMPLEMENTATION``). Generated C goes to ``build/cython``.
- The order path (``tradewire._native.NATIVE_MODULES``: model, bus and cache, execution engine,
  portfolio, risk engine, paper venue), compiled by mypyc from the same ``.py`` files into one shared
  library, ``tradewire_native__mypyc``, plus one small extension per module. After building, a
  manifest ``_native.json`` with each source's SHA-256 is written beside the package; at import
  ``tradewire._native.activate`` uses the compiled modules only if all of them are built and current.

``pip install -e .`` builds both in place next to their sources.
"""

import hashlib
import json
import runpy
import sys
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).parent
BOOK_CORE_PYX = "src/tradewire/data/_book_core.pyx"
# The SHA-256 of the .pyx is compiled into the extension; tradewire.data.book compares it with the .pyx
# beside the module at import and ignores (with a warning) an extension built from an older source.
_pyx_sha256 = hashlib.sha256(ROOT.joinpath(BOOK_CORE_PYX).read_bytes()).hexdigest()

extensions = [
    Extension(
        "tradewire.data._book_core",
        [BOOK_CORE_PYX],
        define_macros=[("TW_BOOK_CORE_SOURCE_SHA256", f'"{_pyx_sha256}"')],
        extra_compile_args=["-O2"],
    )
]

ext_modules = cythonize(extensions, build_dir="build/cython", language_level=3)
for ext in ext_modules:
    ext.optional = True  # cythonize() does not carry ``optional`` over to the extensions it returns

# The module list and the manifest format live in the package (read here without importing tradewire).
_native = runpy.run_path(str(ROOT / "src/tradewire/_native.py"))
NATIVE_MODULES = _native["NATIVE_MODULES"]


class BuildExt(build_ext):
    """``build_ext`` that adds the mypyc extensions (generated only when building) and writes the manifest."""

    def finalize_options(self):
        self._failed = set()
        self._native = self._mypyc_extensions()
        self.distribution.ext_modules = [*(self.distribution.ext_modules or []), *self._native]
        super().finalize_options()

    def run(self):
        super().run()
        if self._native:
            self._write_manifest(self._native)

    def _mypyc_extensions(self):
        try:
            from mypyc.build import mypycify

            sources = [f"src/{m.replace('.', '/')}.py" for m in NATIVE_MODULES]
            native = mypycify(["--ignore-missing-imports", *sources], opt_level="3", group_name=_native["GROUP_NAME"])
        except Exception as exc:  # the source runs without it; say why
            print(f"tradewire: mypyc build of the order path skipped: {exc}", file=sys.stderr)
            return []
        for ext in native:
            ext.optional = True
        return native

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception:
            self._failed.add(ext.name)
            raise

    def _write_manifest(self, native):
        names = {ext.name for ext in native}
        if self._failed & names or not all(Path(self.get_ext_fullpath(n)).is_file() for n in names):
            print("tradewire: mypyc build incomplete; the order path will run from source", file=sys.stderr)
            return
        package_dir = Path(self.get_ext_fullpath("tradewire._native")).parent
        modules = {m: hashlib.sha256(ROOT.joinpath("src", *m.split(".")).with_suffix(".py").read_bytes()).hexdigest()
                   for m in NATIVE_MODULES}  # fmt: skip
        package_dir.joinpath(_native["MANIFEST_NAME"]).write_text(json.dumps({"modules": modules}, indent=1) + "\n")


setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExt})
