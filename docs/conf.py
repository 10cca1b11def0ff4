"""Sphinx configuration of the rhizoscale documentation.

Build: ``python -m sphinx -b html docs docs/_build/html`` (add ``-D plot_gallery=0`` to
skip running the gallery scripts). The API reference pages (``docs/api/``) are written
here, from the ``__all__`` of every public module, each object documented once under the
package users import it from.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# document the checkout this file belongs to, also when another copy is installed
sys.path.insert(0, str(HERE.parent / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

import rhizoscale  # noqa: E402

project = "rhizoscale"
author = "rhizoscale developers"
copyright = "rhizoscale developers"
release = version = rhizoscale.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "gallery/README.rst", "**.ipynb_checkpoints"]
templates_path = []
html_static_path = []

html_theme = "furo"
html_title = f"rhizoscale {release}"

# -- autodoc / autosummary / numpydoc ------------------------------------------------
autosummary_generate = False   # one page per module (written below), not per object
autosummary_ignore_module_all = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the numpydoc sections carry types and units
autodoc_default_options = {"show-inheritance": True}
autodoc_mock_imports = ["plantbox"]
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- MyST (the hand-written pages docs/*.md) ---------------------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]   # the case-study pages start at level 1 and skip none

# -- sphinx-gallery ----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": (),
    "min_reported_time": 1,
    "show_memory": False,
}

# -- API reference -----------------------------------------------------------------------
#: packages whose public modules are documented (every submodule not starting with "_")
API_PACKAGES = ("rhizoscale",)
#: public modules left out of the reference
API_SKIP = ("rhizoscale.__main__", "rhizoscale.cli")
#: sections of the reference: title, intro, module-name prefixes (first match wins)
API_SECTIONS = (
    ("Data model and shared pieces",
     "The objects every case study uses: grids, images, root systems, parameters, files.",
     ("rhizoscale", "rhizoscale.core", "rhizoscale.errors", "rhizoscale.grid", "rhizoscale.parameters",
      "rhizoscale.io", "rhizoscale.progress", "rhizoscale.memory")),
    ("Plant scale: root architecture", "", ("rhizoscale.plant",)),
    ("Case study 1: rhizodeposition", "", ("rhizoscale.rhizodeposition",)),
    ("Case study 2: phosphate uptake", "", ("rhizoscale.nutrients",)),
    ("Case study 3: images and exudate diffusion", "", ("rhizoscale.image", "rhizoscale.diffusion")),
    ("Case study 4: homogenisation and soil diffusion models", "",
     ("rhizoscale.homogenization", "rhizoscale.soil")),
    ("Case study 5: individual-based bacteria", "", ("rhizoscale.microbes",)),
    ("Case study 4: liquid configuration (two-phase lattice Boltzmann)", "",
     ("rhizoscale.porescale",)),
    ("Solvers", "", ("rhizoscale.solvers",)),
    ("Linking scales and sensitivity analysis", "", ("rhizoscale.link", "rhizoscale.sensitivity")),
    ("Scenarios and runs", "", ("rhizoscale.scenario", "rhizoscale.simulation", "rhizoscale.products",
                                "rhizoscale.outputs")),
    ("Reproducing the paper", "", ("rhizoscale.reproduce",)),
)


def _public_modules() -> list[str]:
    names = []
    for pkg_name in API_PACKAGES:
        pkg = importlib.import_module(pkg_name)
        names.append(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            if any(part.startswith("_") for part in info.name.split(".")) or info.name in API_SKIP:
                continue
            names.append(info.name)
    return sorted(names)


def _owner(obj, candidates: list[str]) -> str:
    """The module that documents ``obj``: the shortest exporting package on its home path."""
    home = getattr(obj, "__module__", None) or ""
    on_path = [m for m in candidates if home == m or home.startswith(m + ".")]
    below_top = [m for m in on_path if m != "rhizoscale"]
    pool = below_top or on_path or candidates
    return min(pool, key=lambda m: (m.count("."), m))


def _attribute_docs(module_name: str) -> dict[str, list[str]]:
    """The ``#:`` comments of a module's constants."""
    from sphinx.pycode import ModuleAnalyzer

    try:
        docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    except Exception:  # noqa: BLE001 - no source (compiled module): no comments
        return {}
    return {name: [line for line in lines if line.strip()] for (scope, name), lines in docs.items() if not scope}


def _summary(obj, attr_doc: list[str] | None) -> str:
    """First paragraph of a docstring on one line (never the docstring of a builtin type)."""
    if not (inspect.isclass(obj) or callable(obj)):
        text = " ".join(attr_doc or [])
    else:
        text = inspect.getdoc(obj) or ""
        text = " ".join(text.split("\n\n")[0].split())
    return text or "\\"


def _short_repr(obj) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


#: every importable path of a documented object -> the path it is documented under
ALIASES: dict[str, str] = {}


def _key(name: str, obj):
    """Identity of an exported object: the object itself, or name and value for constants."""
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return id(obj)
    return (name, id(obj))


def _write_api_pages() -> None:
    modules = {m: importlib.import_module(m) for m in _public_modules()}
    exports: dict[object, list[str]] = {}
    for m, mod in modules.items():
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if not inspect.ismodule(obj):
                exports.setdefault(_key(name, obj), []).append(m)
    attr_docs = {m: _attribute_docs(m) for m in modules}
    for key, listed in exports.items():      # every exported name -> its documented name
        for m in listed:
            for name in getattr(modules[m], "__all__", ()):
                obj = getattr(modules[m], name)
                if not inspect.ismodule(obj) and _key(name, obj) == key:
                    owner = _owner(obj, listed)
                    ALIASES[f"{m}.{name}"] = f"{owner}.{name}"
                    home = getattr(obj, "__module__", None)
                    if home and (inspect.isclass(obj) or inspect.isfunction(obj)):
                        ALIASES[f"{home}.{obj.__qualname__}"] = f"{owner}.{name}"
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    written = set()
    for m, mod in modules.items():
        own, elsewhere = [], []
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if inspect.ismodule(obj):
                continue
            listed = exports[_key(name, obj)]
            owner = _owner(obj, listed)
            if owner != m:
                elsewhere.append(f":obj:`{owner}.{name}`")
            else:
                own.append(name)
        def doc_comment(name):   # a constant's ``#:`` comment, in any module that lists it
            return next((attr_docs[k][name] for k in exports.get(_key(name, getattr(mod, name)), [m])
                         if name in attr_docs[k]), [])
        lines = [f"``{m}``", "=" * (len(m) + 4), "", f".. automodule:: {m}", "   :no-members:", "",
                 f".. currentmodule:: {m}", ""]
        if own:
            lines += [".. list-table::", "   :widths: 30 70", ""]
            for name in own:
                lines += [f"   * - :obj:`{name}`", f"     - {_summary(getattr(mod, name), doc_comment(name))}"]
            lines.append("")
        if elsewhere:
            lines += [".. rubric:: Also importable from here", "", ", ".join(elsewhere), ""]
        for name in own:
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                lines += [f".. autoclass:: {name}", "   :members:", "   :show-inheritance:", ""]
            elif callable(obj):
                lines += [f".. autofunction:: {name}", ""]
            else:   # a constant: its ``#:`` comment and its value (not the docstring of its type)
                lines += [f".. py:data:: {name}", f"   :value: {_short_repr(obj)}", ""]
                lines += [f"   {line}" for line in doc_comment(name)] + [""]
        text = "\n".join(lines)
        path = out / f"{m}.rst"
        if not path.exists() or path.read_text() != text:   # keep mtimes: incremental builds
            path.write_text(text)
        written.add(path.name)
    for old in out.glob("*.rst"):
        if old.name not in written:
            old.unlink()
    # the reference's index, grouped by scale
    lines = ["API reference", "=============", "",
             "Every public function and class, from the docstrings. Each object is documented "
             "once, under the package you import it from (e.g. ``rhizoscale.plant.RootSystem``); "
             "a module page lists what it re-exports from elsewhere.", ""]
    placed = set()
    for title, intro, prefixes in API_SECTIONS:
        members = [m for m in modules if m not in placed and any(
            m == p or (p != "rhizoscale" and m.startswith(p + ".")) for p in prefixes)]
        placed.update(members)
        lines += [title, "-" * len(title), ""] + ([intro, ""] if intro else [])
        lines += [".. autosummary::", ""] + [f"   {m}" for m in members] + [""]
        lines += [".. toctree::", "   :hidden:", ""] + [f"   api/{m}" for m in members] + [""]
    rest = [m for m in modules if m not in placed]
    if rest:
        lines += ["Other modules", "-------------", "", ".. autosummary::", ""] + [f"   {m}" for m in rest] + [""]
        lines += [".. toctree::", "   :hidden:", ""] + [f"   api/{m}" for m in rest] + [""]
    text = "\n".join(lines)
    path = HERE / "api.rst"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_api_pages()


def _pydantic_fields(app, what, name, obj, options, lines):
    """List the fields of a pydantic model (name, default, description with units)."""
    fields = getattr(obj, "model_fields", None) if inspect.isclass(obj) else None
    if not fields or what != "class":
        return
    from pydantic_core import PydanticUndefined

    rows = []
    for fname, info in fields.items():
        default = "required" if info.default is PydanticUndefined and info.default_factory is None else (
            "(factory)" if info.default is PydanticUndefined else repr(info.default))
        if len(default) > 40:
            default = default[:37] + "..."
        desc = (info.description or "").replace("\n", " ")
        rows.append((fname, default, desc))
    lines += ["", ".. rubric:: Fields", "", ".. list-table::", "   :header-rows: 1", "   :widths: 20 20 60", "",
              "   * - name", "     - default", "     - description [units]"]
    for fname, default, desc in rows:
        lines += [f"   * - ``{fname}``", f"     - ``{default}``", f"     - {desc}"]
    lines.append("")


def _is_model(obj) -> bool:
    return inspect.isclass(obj) and hasattr(obj, "model_fields") and hasattr(obj, "model_config")


def _skip_pydantic_internals(app, what, name, obj, skip, options):
    """Hide pydantic's own class attributes (``model_config``, ...) from model pages."""
    if name.startswith("model_") or name.startswith("__pydantic"):
        return True
    return None


def _model_signature(app, what, name, obj, options, signature, return_annotation):
    """Pydantic models take keyword fields only: the Fields table lists them, not the signature."""
    if what == "class" and _is_model(obj):
        return "(**fields)", None
    return None


def _resolve_alias(app, env, node, contnode):
    """Resolve references to an object through any path it can be imported from.

    ``rhizoscale.RegularGrid``, ``rhizoscale.grid.RegularGrid.spacing`` or, inside
    ``rhizoscale.plant``, ``RootSystem.at`` all lead to the one documented object.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    candidates = [target]
    module, cls = node.get("py:module"), node.get("py:class")
    for context in (cls, module, f"{module}.{cls}" if module and cls else None):
        if context:
            candidates.append(f"{context}.{target}")
    head = target.split(".")[0]     # a bare class or function name used in its own package
    short = [c for c in set(ALIASES.values()) if c.rsplit(".", 1)[-1] == head]
    if len(short) == 1:
        candidates.append(short[0] + target[len(head):])
    for cand in candidates:
        parts = cand.split(".")
        for k in range(len(parts), 0, -1):
            head = ".".join(parts[:k])
            if head in ALIASES:
                canonical = ".".join([ALIASES[head]] + parts[k:])
                if canonical == cand and cand == target:
                    continue
                domain = env.get_domain("py")
                found = domain.resolve_any_xref(env, node["refdoc"], app.builder, canonical, node, contnode)
                if found:
                    return found[0][1]
    return None


def _public_bases(app, name, obj, options, bases):
    """Show a private base class (``_Strict``) as the public classes it derives from."""
    i = 0
    while i < len(bases):
        base = bases[i]
        if getattr(base, "__name__", "").startswith("_") and inspect.isclass(base):
            bases[i:i + 1] = [b for b in base.__bases__ if b is not object] or [object]
        else:
            i += 1


def setup(app):
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-docstring", _pydantic_fields, priority=600)
    app.connect("autodoc-skip-member", _skip_pydantic_internals)
    app.connect("autodoc-process-signature", _model_signature)
