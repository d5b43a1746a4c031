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


def _faults_table_directive():
    """A ``faults-table`` directive listing extra_catalog.testing.FAULTS."""
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class FaultsTable(Directive):
        def run(self):
            from extra_catalog.testing import FAULTS, RUN_FAULTS

            items = nodes.definition_list()
            for name, text in FAULTS.items():
                kind = "run" if name in RUN_FAULTS else "file"
                term = nodes.term("", "", nodes.literal(text=name), nodes.Text(f" ({kind})"))
                items += nodes.definition_list_item(
                    "", term, nodes.definition("", nodes.paragraph(text=text)))
            return [items]

    return FaultsTable


def setup(app):
    app.add_directive("faults-table", _faults_table_directive())
