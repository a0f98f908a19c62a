"""Connector kinds come from a registry: the built-in ones, and any a package declares as an
entry point in the group ``maillage.connectors``."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from hub.config import Config, ConfigError, SourceSettings, load_config
from hub.sync import registry


def connector(config: Config, source: SourceSettings, view: Any) -> Any:
    """A third-party kind's factory (this module stands for its package)."""
    return ("built", source.name, view.source)


def test_a_kind_declared_by_an_entry_point_is_found_and_checked(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Any) -> None:
    declared = [EntryPoint(name="yeswiki", value="tests.test_registry", group=registry.GROUP),
                EntryPoint(name="mediawiki", value="tests.test_registry", group=registry.GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: declared if group == registry.GROUP else [])
    assert list(registry.kinds()) == ["mediawiki", "communecter", "hub", "website", "jsonapi", "yeswiki"]
    assert registry.factory("yeswiki") is connector
    assert registry.factory("mediawiki") is not connector, "a package cannot take over a built-in kind"
    assert registry.factory("hub").__module__ == "connectors.peerhub", "the peer hub keeps its kind"
    assert registry.factory("nope") is None
    path = tmp_path / "maillage.toml"
    path.write_text('[[sources]]\nname = "yw"\nkind = "yeswiki"\nurl = "https://example.org"\n')
    assert load_config(path).source("yw").kind == "yeswiki"
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    with pytest.raises(ConfigError, match="kind must be one of mediawiki, communecter, hub"):
        load_config(path)
