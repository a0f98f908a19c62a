"""A self-contained SHACL Core engine: the unit of correctness is the W3C SHACL core test suite.

Every case of ``data-shapes-test-suite/tests/core`` that :func:`compile_shapes` accepts must give
exactly the expected validation report (``tests/test_shacl_w3c.py``); every other case must be
refused at compile time with :class:`UnsupportedShapes`, so a caller can fall back to a complete
engine instead of skipping a constraint.

The package imports rdflib, pyoxigraph and the standard library only, never the rest of the hub.
Inside it, imports go one way::

    model  <-  xsd  <-  checks  <-  compiler
      ^
      report

``model`` holds the runtime (shapes, data index, results); ``compiler`` reads a shapes graph once
into it; ``report`` builds the ``sh:ValidationReport`` graph only when someone asks for one.
"""

from hub.shacl.checks import TermText, Wording
from hub.shacl.compiler import compile_shapes
from hub.shacl.model import (
    BNODE,
    IRI,
    LITERAL,
    CompiledShapes,
    Data,
    Node,
    Result,
    Shape,
    UnsupportedShapes,
    iri_node,
)
from hub.shacl.report import report_graph

__all__ = [
    "BNODE",
    "IRI",
    "LITERAL",
    "CompiledShapes",
    "Data",
    "Node",
    "Result",
    "Shape",
    "TermText",
    "UnsupportedShapes",
    "Wording",
    "compile_shapes",
    "iri_node",
    "report_graph",
]
