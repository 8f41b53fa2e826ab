"""The wheel carries the theme (templates, static files, gettext catalogs) and every catalog compiled (.po to .mo).

Everything else is in pyproject.toml; this only adds that step to setuptools' build_py. The repository keeps the
theme at the top (theme/) where the settings files name it; an installed newsroom finds its copy inside the package
(newsroom/theme/) when the settings' THEME folder is not there (newsroom.build.theme).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

THEME = Path(__file__).parent / "theme"


class BuildWithTheme(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        package = Path(self.build_lib) / "newsroom"
        for source in sorted(p for p in THEME.rglob("*") if p.is_file() and p.suffix not in (".mo", ".pot")):
            self.mkpath(str((package / "theme" / source.relative_to(THEME)).parent))
            self.copy_file(str(source), str(package / "theme" / source.relative_to(THEME)), preserve_mode=False)
        for catalog in sorted(package.rglob("*.po")):  # the theme's and the desk's
            with catalog.open("rb") as po, catalog.with_suffix(".mo").open("wb") as mo:
                write_mo(mo, read_po(po))


setup(cmdclass={"build_py": BuildWithTheme})
