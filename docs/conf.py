"""Sphinx configuration for the spectro documentation."""

import importlib
import pkgutil

import spectro

project = "spectro"
author = "the spectro developers"
release = spectro.__version__
version = release

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autosummary_generate = True
templates_path = ["_templates"]
autosummary_imported_members = False


def _from_private_modules() -> dict[str, list[str]]:
    """Per package, the names of its ``__all__`` defined in its private submodules (``_windows.py``, ...).

    A package page lists its public submodules, each documented on its own
    page; these names have no page of their own, so the package page
    documents them.
    """
    found = {}
    for info in pkgutil.walk_packages(spectro.__path__, "spectro."):
        package = importlib.import_module(info.name) if info.ispkg else None
        if package is None:
            continue
        public = set(getattr(package, "__all__", ()))
        names = []
        for sub in pkgutil.iter_modules(package.__path__):
            if sub.name.startswith("_") and not sub.name.startswith("__"):
                module = importlib.import_module(f"{info.name}.{sub.name}")
                names += [
                    n for n in getattr(module, "__all__", ())
                    if n in public and getattr(package, n) is getattr(module, n) and n not in names
                ]
        found[info.name] = sorted(names)
    return found


autosummary_context = {"from_private_modules": _from_private_modules()}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True

intersphinx_mapping = {}

html_theme = "pydata_sphinx_theme"
html_title = f"spectro {release}"
html_theme_options = {"show_toc_level": 2}
