"""Communecter mapping files: a costum mapping builds on its instance's."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.communecter.mapping import load_mapping
from hub.config import ConfigError


def test_a_costum_mapping_replaces_only_the_types_it_gives() -> None:
    instance = load_mapping(Path("mappings/communecter.toml"))
    costum = load_mapping(Path("mappings/communecter-tierslieux.toml"))
    place = costum.for_class("Place")
    assert place is not None and place.collection == "organizations", "tiers-lieux are organisations there"
    assert {link.property for link in place.links} >= {"hasMember", "organizes"}
    assert place.classes == ("Place", "Organization"), "a tiers-lieu is also a collective"
    assert costum.for_class("Organization") is None, "one class per collection"
    assert costum.for_class("Event") == instance.for_class("Event"), "the rest comes from the instance"
    person = next((t for t in costum.types if t.collection == "citoyens"), None)
    assert person is not None and not person.writable and costum.reads_people and not instance.reads_people
    assert costum.source_key == instance.source_key


def test_a_mapping_that_extends_itself_is_refused(tmp_path: Path) -> None:
    loop = tmp_path / "loop.toml"
    loop.write_text('[instance]\nextends = "loop.toml"\n')
    with pytest.raises(ConfigError, match="cannot extend itself"):
        load_mapping(loop)


def test_a_tag_tells_apart_two_types_of_one_collection(tmp_path: Path) -> None:
    instance = load_mapping(Path("mappings/communecter.toml"))
    assert instance.kind_of("projects", {"tags": ["vélo", "commun"]}).hub_class == "Commons"  # type: ignore[union-attr]
    assert instance.kind_of("projects", {"tags": ["vélo"]}).hub_class == "Project"  # type: ignore[union-attr]
    assert instance.kind_of("projects", {"tags": "commun"}).hub_class == "Project", "tags must be a list"  # type: ignore[union-attr]
    assert [t.collection for t in instance.read_types()].count("projects") == 1, "read once"
    twice = tmp_path / "twice.toml"
    twice.write_text('[[types]]\ncontroller = "project"\ncollection = "projects"\nclass = "Project"\n'
                     '[types.fields]\nname = "name"\n[[types]]\ncontroller = "project"\ncollection = "projects"\n'
                     'class = "Commons"\n[types.fields]\nname = "name"\n')
    with pytest.raises(ConfigError, match="two types read 'projects'"):
        load_mapping(twice)
