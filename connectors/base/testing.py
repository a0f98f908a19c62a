"""The connector contract suite: what every connector must do, checked the same way for each.

In the spirit of the Singer SDK's standard tap tests: a connector's test module declares, once,
how to drive its source the way a person would (a :class:`SourceDriver`: create, edit, delete an
item, list the items) and how to build a hub on it, and inherits every behaviour below::

    class TestMediaWiki(ConnectorContract):
        @pytest.fixture
        def driver(self, wiki): return WikiDriver(wiki)
        @pytest.fixture
        def hub(self, driver, monkeypatch): return HubUnderTest(driver.source(), monkeypatch=...)

The behaviours are the ones the hub's sync engine relies on (``connectors.base.protocol``):
full read, incremental read, idempotent re-read, hub values pushed to an item (and not read
back as a change: echo suppression), an entity of another source created as an item and read
back as the same entity, a person's concurrent edit kept with a conflict recorded, a kill
between a write and its record followed by adoption (never a twin), and the guard that refuses
a full pass which would delete most of a source. A read-only connector (a peer hub) sets
``writes = False`` and runs the read half.

This module imports neither the hub's store nor its sync engine: the hub under test is handed
in through the ``hub`` fixture, as any object with the methods of :class:`HubHandle`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

import pytest


class SourceDriver(Protocol):
    """A person at the source: what the suite does to it behind the hub's back, and what it
    looks at afterwards. Values are named by the hub property they map to (``name``, and the
    free-text property ``text``), so the suite needs to know nothing of the source's format."""

    hub_class: str
    """The hub class the driver's items are read as (local name, "Organization")."""
    text: str
    """A free-text property its items carry both ways ("shortDescription")."""

    def create_item(self, name: str, text: str) -> str:
        """Create an item as a person would; return its key (what ``HubHandle.entity`` takes)."""
        ...

    def edit_item(self, key: str, text: str) -> None:
        """Change the item's ``text`` as a person would (a later time than any before)."""
        ...

    def delete_item(self, key: str) -> None:
        """Delete the item as a person would."""
        ...

    def items(self) -> dict[str, dict[str, str]]:
        """Key → {hub property: value} of the source's items of ``hub_class`` now."""
        ...


class HubHandle(Protocol):
    """The hub under test (``tests.harness.HubUnderTest`` in this repository)."""

    def sync(self, source: str | None = None, full: bool = False, ok: bool = True) -> Any: ...
    def entity(self, key: str, source: str | None = None) -> str: ...
    def values(self, entity: str, prop: str) -> set[str]: ...
    def holds(self, entity: str) -> bool: ...
    def other_source_says(self, entity: str, cls: str | None = None, *, by: str = ...,
                          **values: str) -> None: ...
    def conflicted(self, source: str | None = None) -> set[str]: ...
    def killed_after_write(self) -> AbstractContextManager[None]: ...


def _says(hub: HubHandle, driver: SourceDriver, entity: str, name: str, text: str) -> None:
    """Another source states the entity's name and text."""
    hub.other_source_says(entity, driver.hub_class, name=name, **{driver.text: text})


def _named(driver: SourceDriver, name: str) -> list[str]:
    return [key for key, fields in driver.items().items() if fields.get("name") == name]


class ConnectorContract:
    """The standard behaviours; subclass it (as ``Test…``) with ``driver`` and ``hub`` fixtures."""

    writes = True
    """False for a read-only connector: the writing half is skipped."""
    deletions = 12
    """How many items the deletion-guard test makes at least (more if the source holds more)."""
    guards_deletions = True
    """False for a connector whose full pass does not list the source (a peer hub reads
    deletions from its feed, one by one): the guard does not apply."""

    @pytest.fixture
    def driver(self) -> SourceDriver:
        raise NotImplementedError("a ConnectorContract subclass provides the `driver` fixture")

    @pytest.fixture
    def hub(self, driver: SourceDriver) -> HubHandle:
        raise NotImplementedError("a ConnectorContract subclass provides the `hub` fixture")

    def _writing(self) -> None:
        if not self.writes:
            pytest.skip("a read-only connector")

    # ------------------------------------------------------------------ the read half

    def test_full_read_brings_every_item(self, driver: SourceDriver, hub: HubHandle) -> None:
        made = {driver.create_item(f"Contrat lecture {i}", f"Texte {i}.") : i for i in range(3)}
        report = hub.sync(full=True)
        assert report.read.created >= 3  # a source may hold other items, malformed ones too
        for key, i in made.items():
            entity = hub.entity(key)
            assert hub.values(entity, "name") == {f"Contrat lecture {i}"}
            assert hub.values(entity, driver.text) == {f"Texte {i}."}

    def test_incremental_read_sees_only_the_change(self, driver: SourceDriver, hub: HubHandle) -> None:
        key = driver.create_item("Contrat incrément", "Avant.")
        driver.create_item("Contrat témoin", "Inchangé.")
        hub.sync()
        driver.edit_item(key, "Après.")
        report = hub.sync()
        assert (report.read.created, report.read.updated, report.read.deleted) == (0, 1, 0)
        assert hub.values(hub.entity(key), driver.text) == {"Après."}

    def test_reading_again_changes_nothing(self, driver: SourceDriver, hub: HubHandle) -> None:
        driver.create_item("Contrat relecture", "Stable.")
        hub.sync()
        for full in (False, True):
            again = hub.sync(full=full)
            assert (again.read.created, again.read.updated, again.read.deleted) == (0, 0, 0), full

    def test_a_deleted_item_leaves_the_hub_at_the_next_full_pass(self, driver: SourceDriver,
                                                                  hub: HubHandle) -> None:
        key = driver.create_item("Contrat éphémère", "Bientôt supprimé.")
        hub.sync()
        entity = hub.entity(key)
        driver.delete_item(key)
        assert hub.sync(full=True).read.deleted == 1
        assert not hub.holds(entity)

    def test_a_full_pass_that_would_delete_most_items_is_refused(self, driver: SourceDriver,
                                                                 hub: HubHandle) -> None:
        if not self.guards_deletions:
            pytest.skip("deletions come one by one from a feed, not from a listing")
        known = hub.sync().read.created  # what the source held already
        count = max(self.deletions, known + 1)  # so that deleting them all is most of the source
        keys = [driver.create_item(f"Contrat garde {i:02}", "Garde.") for i in range(count)]
        hub.sync()
        for key in keys:
            driver.delete_item(key)
        report = hub.sync(full=True, ok=False)
        assert report.error is not None and "max_deletions" in report.error
        assert all(hub.holds(hub.entity(key)) for key in keys), "nothing deleted"

    # ------------------------------------------------------------------ the write half

    def test_hub_values_are_written_and_not_read_back(self, driver: SourceDriver, hub: HubHandle) -> None:
        self._writing()
        key = driver.create_item("Contrat écriture", "Texte de la source.")
        hub.sync()
        entity = hub.entity(key)
        _says(hub, driver, entity, "Contrat écriture", "Par le hub.")
        report = hub.sync()
        assert report.pushed.updated == 1
        assert driver.items()[key][driver.text] == "Par le hub."
        echo = hub.sync()
        assert (echo.read.updated, echo.pushed.updated) == (0, 0), "the hub's own write is no change"

    def test_an_entity_of_another_source_becomes_one_item(self, driver: SourceDriver, hub: HubHandle) -> None:
        self._writing()
        hub.sync()
        entity = "https://example.org/contrat/cree-par-le-hub"
        _says(hub, driver, entity, "Contrat créé par le hub", "Du hub.")
        assert hub.sync().pushed.created == 1
        [key] = _named(driver, "Contrat créé par le hub")
        assert driver.items()[key][driver.text] == "Du hub."
        hub.sync(full=True)
        assert hub.entity(key) == entity, "read back as the same entity, not a twin"
        assert hub.sync().pushed.created == 0

    def test_a_concurrent_edit_is_kept_and_recorded_as_a_conflict(self, driver: SourceDriver,
                                                                  hub: HubHandle) -> None:
        self._writing()
        key = driver.create_item("Contrat concurrent", "Texte d'origine.")
        hub.sync()
        entity = hub.entity(key)
        driver.edit_item(key, "Modifié par une personne.")
        _says(hub, driver, entity, "Contrat concurrent", "Par le hub.")
        hub.sync()
        assert driver.items()[key][driver.text] == "Modifié par une personne.", "the person's value stays"
        assert entity in hub.conflicted()

    def test_a_kill_between_a_create_and_its_record_is_adopted_not_doubled(self, driver: SourceDriver,
                                                                           hub: HubHandle) -> None:
        self._writing()
        hub.sync()
        entity = "https://example.org/contrat/interrompu"
        _says(hub, driver, entity, "Contrat interrompu", "Avant la panne.")
        with hub.killed_after_write(), pytest.raises(KeyboardInterrupt):
            hub.sync(ok=False)
        assert len(_named(driver, "Contrat interrompu")) == 1, "the item was made before the kill"
        hub.sync()
        [key] = _named(driver, "Contrat interrompu")
        hub.sync(full=True)
        assert hub.entity(key) == entity, "the item made before the kill is the entity's"
