"""The documentation works: gallery scripts run, docstring examples pass, Sphinx builds.

* every ``docs/gallery/plot_*.py`` runs in a fresh interpreter (as a user would run it)
  and exits 0 (a few seconds each with a warm Numba cache; the timeout leaves room for
  compiling the kernels on a cold one);
* the ``Examples`` sections of the documented modules pass as doctests;
* ``sphinx-build`` succeeds without executing the gallery, and every warning it prints
  is one of the known ones listed below (which belong to modules being rewritten).
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GALLERY = sorted((DOCS / "gallery").glob("plot_*.py"))

#: packages and modules whose docstring examples are run (all their public submodules)
DOCTEST_PACKAGES = (
    "rhizoscale.core",
    "rhizoscale.grid",
    "rhizoscale.simulation",
    "rhizoscale.products",
    "rhizoscale.outputs",
    "rhizoscale.scenario",
    "rhizoscale.memory",
    "rhizoscale.progress",
    "rhizoscale.warmup",
    "rhizoscale.io",
    "rhizoscale.parameters",
    "rhizoscale.plant",
    "rhizoscale.rhizodeposition",
    "rhizoscale.diffusion",
    "rhizoscale.nutrients",
    "rhizoscale.homogenization",
    "rhizoscale.mucilage",
    "rhizoscale.microbes",
    "rhizoscale.porescale",
    "rhizoscale.image",
    "rhizoscale.soil",
    "rhizoscale.solvers",
    "rhizoscale.link",
    "rhizoscale.sensitivity",
    "rhizoscale.reproduce",
)

#: Sphinx warnings allowed for now: (source file pattern, message pattern). They come from
#: docstrings of modules another change is rewriting; remove an entry once it is fixed.
KNOWN_SPHINX_WARNINGS: tuple = ()


def _modules(packages):
    names = []
    for name in packages:
        mod = importlib.import_module(name)
        names.append(name)
        if hasattr(mod, "__path__"):   # private modules too: public objects live in e.g. ``_image``
            names += [info.name for info in pkgutil.walk_packages(mod.__path__, name + ".")]
    return names


@pytest.mark.parametrize("script", GALLERY, ids=[p.stem for p in GALLERY])
def test_gallery_script_runs(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert list(tmp_path.iterdir()) == [], "a gallery script left files in the working directory"


def test_docstring_examples():
    import matplotlib

    matplotlib.use("Agg")
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    finder = doctest.DocTestFinder(exclude_empty=True)
    failures, examples = [], 0
    for name in _modules(DOCTEST_PACKAGES):
        mod = importlib.import_module(name)
        for test in finder.find(mod, name):
            if not test.examples or not (test.name == name or test.name.startswith(name + ".")):
                continue
            out: list[str] = []
            runner = doctest.DocTestRunner(optionflags=flags)
            runner.run(test, out=out.append)
            examples += len(test.examples)
            if runner.failures:
                failures.append("".join(out))
    assert examples > 100, f"only {examples} docstring examples found"
    assert not failures, "\n".join(failures)


def _sphinx_warnings(text: str) -> list[str]:
    """Split sphinx's warning file into one entry per warning (some span several lines)."""
    entries: list[str] = []
    for line in text.splitlines():
        if re.search(r"(WARNING|ERROR|CRITICAL):", line) or not entries:
            entries.append(line)
        else:
            entries[-1] += "\n" + line
    return [e for e in entries if e.strip()]


def test_sphinx_build(tmp_path):
    for module in ("sphinx", "sphinx_gallery", "myst_parser", "numpydoc", "furo"):
        pytest.importorskip(module)
    warnings_file = tmp_path / "warnings.txt"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-D", "plot_gallery=0", "-w", str(warnings_file),
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-4000:]
    unexpected = [w for w in _sphinx_warnings(warnings_file.read_text())
                  if not any(re.search(f, w) and re.search(m, w) for f, m in KNOWN_SPHINX_WARNINGS)]
    assert not unexpected, "new Sphinx warnings:\n" + "\n".join(unexpected)
    html = tmp_path / "html"
    for page in ("index.html", "api.html", "auto_examples/index.html", "cs2-phosphate-uptake.html",
                 "api/rhizoscale.plant.html"):
        assert (html / page).is_file(), page
    assert "grow_root_system" in (html / "api" / "rhizoscale.plant.html").read_text()
