"""Sphinx configuration for the spectro documentation."""

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
