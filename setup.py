"""Build script for the compiled parts of tradewire (project metadata lives in pyproject.toml).

One Cython extension, ``tradewire.data._book_core`` (the L2 order book's level storage). It is marked
optional: on a machine without a C compiler the install still succeeds and ``tradewire.data.book``
uses the pure-Python ``_book_pure`` instead (it logs which one is active at import and exposes it as
``tradewire.data.book.IMPLEMENTATION``). Generated C sources go to ``build/cython`` (not the source
tree). ``pip install -e .`` builds the extension in place next to its ``.pyx``.
"""

import hashlib
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

BOOK_CORE_PYX = "src/tradewire/data/_book_core.pyx"
# The SHA-256 of the .pyx is compiled into the extension; tradewire.data.book compares it with the .pyx
# beside the module at import and ignores (with a warning) an extension built from an older source.
_pyx_sha256 = hashlib.sha256(Path(__file__).parent.joinpath(BOOK_CORE_PYX).read_bytes()).hexdigest()

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

setup(ext_modules=ext_modules)
