"""One exception tree: every error class of hub/ and connectors/ is a HubError (or a documented
exception), the tree in ``hub.errors`` says where each lives, and the API never answers a
HubError with a 500."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import connectors
import hub
import hub.errors
from hub.api.app import hub_error_response
from hub.errors import HubError

NOT_HUB_ERRORS = {
    "Retryable", "EditConflict", "_Died", "StaleRevision", "WriteRefused", "AlreadyExists",
    "UnsupportedShapes",
}
"""Named in the docstring of ``hub.errors``: signals that never leave the code that raises them,
and the SHACL engine's own error (that package imports only rdflib and pyoxigraph)."""


def modules() -> list[ModuleType]:
    found = []
    for package in (hub, connectors):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                found.append(importlib.import_module(info.name))
    return found


def error_classes() -> dict[str, type[BaseException]]:
    return {
        f"{module.__name__}.{name}": cls
        for module in modules()
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == module.__name__
    }


def drawn_tree() -> dict[str, str]:
    """Class name → module, from the lines ``├── Name   path/to/module.py`` of the docstring."""
    doc = hub.errors.__doc__ or ""
    pairs = re.findall(r"^\s*(?:[│ ]*[├└]── )?(\w+)\s+([\w/]+)\.py", doc, re.MULTILINE)
    return {name: path.replace("/", ".").removesuffix(".__init__") for name, path in pairs}


def test_every_error_class_is_a_hub_error_or_a_named_exception() -> None:
    strays = [
        qualified
        for qualified, cls in error_classes().items()
        if not issubclass(cls, HubError) and cls.__name__ not in NOT_HUB_ERRORS
    ]
    assert not strays, f"derive these from hub.errors.HubError (or a subclass): {strays}"


def test_the_drawn_tree_says_where_each_class_lives() -> None:
    drawn = drawn_tree()
    defined = {qualified.rsplit(".", 1)[1]: qualified.rsplit(".", 1)[0] for qualified in error_classes()}
    for name, module in drawn.items():
        assert defined.get(name) == module, f"hub.errors draws {name} in {module}; it is in {defined.get(name)}"
    missing = {n for n, cls in error_classes().items() if issubclass(cls, HubError)} - {
        f"{module}.{name}" for name, module in drawn.items()
    }
    assert not missing, f"HubError classes missing from the tree in hub.errors: {sorted(missing)}"


def test_the_api_never_answers_a_hub_error_with_a_500() -> None:
    classes = [cls for cls in error_classes().values() if issubclass(cls, HubError)]
    for cls in classes:
        try:
            exc = cls("refused")
        except TypeError:
            exc = cls("refused", 3)  # QueryUnavailable(message, retry_after)
        response = hub_error_response(exc)
        assert 400 <= response.status_code < 500 or response.status_code == 503, (cls, response.status_code)
        assert b"refused" in response.body


@pytest.mark.parametrize(("name", "status"), [("NotFound", 404), ("StoreError", 400), ("QueryTooLarge", 413)])
def test_statuses_the_clients_rely_on(name: str, status: int) -> None:
    cls = next(c for q, c in error_classes().items() if q.endswith(f".{name}"))
    assert hub_error_response(cls("x")).status_code == status
