"""Compiles the gettext catalogues into every built package, so an install from a wheel shows
the zh-CN interface. Compiled ``.mo`` files are build output, never committed; in a checkout
``make translations`` makes them. Babel reads and writes the catalogues; only the loop is ours."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's own catalogues
            return
        for source in Path(self.build_lib, "idp", "web", "translations").rglob("*.po"):
            with source.open("rb") as po:
                catalogue = read_po(po, locale=source.parent.parent.name)
            with source.with_suffix(".mo").open("wb") as mo:
                write_mo(mo, catalogue)  # fuzzy entries left out, as `pybabel compile` does


setup(cmdclass={"build_py": BuildWithCatalogues})
