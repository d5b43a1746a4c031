"""Sphinx configuration of the extra_catalog documentation."""

import extra_catalog

project = "extra_catalog"
author = "extra_catalog developers"
release = extra_catalog.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
]

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"

html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False
