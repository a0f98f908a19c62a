"""Every connector against the same contract (connectors.base.testing): one class per connector,
each declaring only how a person drives its source. The real servers are the session's (MediaWiki)
or one emulator per test (Communecter starts in a fraction of a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.base.memory import MemorySource
from connectors.base.testing import ConnectorContract
from hub.config import SourceSettings
from hub.sync import registry
from tests.harness import HubUnderTest, Source


class MemoryDriver:
    """A person at the in-memory source: the reference every real connector is held to."""

    hub_class = "Organization"
    text = "shortDescription"

    def __init__(self, key: str) -> None:
        self.source = MemorySource(key)

    def create_item(self, name: str, text: str) -> str:
        return self.source.create_item(self.hub_class, name=name, shortDescription=text)

    def edit_item(self, key: str, text: str) -> None:
        self.source.edit_item(key, shortDescription=text)

    def delete_item(self, key: str) -> None:
        self.source.delete_item(key)

    def items(self) -> dict[str, dict[str, str]]:
        return {key: dict(item.fields) for key, item in self.source.items.items() if item.cls == self.hub_class}


class TestMemory(ConnectorContract):
    @pytest.fixture
    def driver(self, request: pytest.FixtureRequest) -> MemoryDriver:
        return MemoryDriver(request.node.name)

    @pytest.fixture
    def hub(self, driver: MemoryDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        monkeypatch.setitem(registry.BUILTIN, "memory", "connectors.base.memory")
        settings = SourceSettings(name="memoire", kind="memory", url=driver.source.url, direction="both")
        hub = HubUnderTest(Source(settings), monkeypatch=monkeypatch)
        yield hub
        hub.close()
