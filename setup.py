"""Build script for the compiled parts of tradewire (project metadata lives in pyproject.toml).

One Cython extension, ``tradewire.data._book_core`` (the L2 order book's level storage). It is marked
optional: on a machine without a C compiler the install still succeeds and ``tradewire.data.book``
uses the pure-Python ``_book_pure`` instead (it logs which one is active at import and exposes it as
``tradewire.data.book.IMPLEMENTATION``). Generated C sources go to ``build/cython`` (not the source
tree). ``pip install -e .`` builds the extension in place next to its ``.pyx``.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "tradewire.data._book_core",
        ["src/tradewire/data/_book_core.pyx"],
        extra_compile_args=["-O2"],
        optional=True,
    )
]

setup(
    ext_modules=cythonize(extensions, build_dir="build/cython", language_level=3),
)
