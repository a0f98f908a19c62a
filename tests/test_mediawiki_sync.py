"""The MediaWiki connector against a real MediaWiki 1.39: what is specific to wikis (links between
pages, renames, wikitext written byte-exactly, edit races, faults and login errors, discovery).
What every connector must do is checked by tests/connectors/test_contract.py."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from connectors.mediawiki.client import WikiClient
from hub.meta.changelog import last_sequence
from hub.meta.conflicts import list_conflicts
from hub.meta.quarantine import list_quarantine
from hub.meta.status import source_statuses
from hub.records import Record
from hub.sync.engine import sync_source
from hub.sync.resolve import resolve
from hub.vocab import MLG, RDF_TYPE
from tests.harness import HubUnderTest, mediawiki_source
from tests.servers.faulty_proxy import FaultyProxy
from tests.servers.mediawiki import Wiki


def wiki_hub(wiki: Wiki, monkeypatch: pytest.MonkeyPatch, url: str | None = None,
             direction: str = "both") -> HubUnderTest:
    """A hub in memory with the wiki as its one source "fabmob", as `maillage sync` runs it."""
    return HubUnderTest(mediawiki_source(wiki, url=url, direction=direction, max_retries=3, timeout=5),
                        monkeypatch=monkeypatch)


@pytest.fixture
def hub(wiki: Wiki, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
    h = wiki_hub(wiki, monkeypatch)
    h.sync()
    yield h
    h.close()


def test_full_harvest_reads_every_data_page(hub: HubUnderTest) -> None:
    registre = hub.entity("Registre de preuve de covoiturage")
    assert hub.values(registre, "name") == {"Registre de preuve de covoiturage"}
    assert {"covoiturage", "preuve", "API"} <= hub.values(registre, "keyword")
    fabmob = hub.entity("La Fabrique des Mobilités")
    assert fabmob in hub.values(registre, "usedBy"), "page links become links between entities"
    assert hub.store.ask(f"ASK {{ <{fabmob}> a <{MLG}Organization> }}")
    assert any("Texte libre" in t for t in hub.values(registre, "pageText"))
    reasons = {q.reason for q in list_quarantine(hub.store, "fabmob")}
    assert any("not closed" in r for r in reasons), reasons
    assert any("broken table" in r for r in reasons), reasons
    again = hub.sync()
    assert (again.read.created, again.read.updated) == (0, 0), "nothing changed, nothing logged"



def test_rename_keeps_the_entity_and_delete_restore(hub: HubUnderTest, wiki: Wiki) -> None:
    wiki.edit_as_human("Plateforme de test", "{{Ressource\n|Title=Plateforme de test\n|Tags=test\n}}", "new")
    hub.sync()
    entity = hub.entity("Plateforme de test")
    wiki.move("Plateforme de test", "Plateforme de test/renommée")
    hub.sync()
    assert hub.entity("Plateforme de test/renommée") == entity
    wiki.delete("Plateforme de test/renommée", "test")
    report = hub.sync()
    assert report.read.deleted == 1
    assert not hub.store.ask(f"ASK {{ <{entity}> ?p ?o }}")
    wiki.undelete("Plateforme de test/renommée")
    hub.sync()
    assert hub.values(hub.entity("Plateforme de test/renommée"), "name") == {"Plateforme de test"}


def test_hub_change_is_written_byte_exactly_and_not_echoed(hub: HubUnderTest, wiki: Wiki) -> None:
    title = "Registre de preuve de covoiturage"
    entity = hub.entity(title)
    before = wiki.page_text(title)
    name = next(iter(hub.values(entity, "name")))
    hub.other_source_says(entity, name=name, shortDescription="Guide pour former des formateurs vélo.")
    report = hub.sync()
    assert report.pushed.updated == 1
    after = wiki.page_text(title)
    changed = [line for line in difflib.ndiff(before.splitlines(), after.splitlines())
               if line.startswith(("+ ", "- "))]
    assert len(changed) == 2 and all("shortDescription" in line for line in changed), changed
    sequence = last_sequence(hub.store)
    echo = hub.sync()
    assert last_sequence(hub.store) == sequence, "the hub's own edit must not come back as a change"
    assert (echo.read.updated, echo.pushed.updated) == (0, 0)


def test_concurrent_human_edits_merge_or_conflict(hub: HubUnderTest, wiki: Wiki) -> None:
    title = "Covoiturage du quotidien"
    entity = hub.entity(title)
    name = next(iter(hub.values(entity, "name")))
    text = wiki.page_text(title)
    # a person edits the wiki while another source changes the same and another parameter
    human = text.replace("|shortDescription=", "|shortDescription=Modifié par un humain. ", 1)
    wiki.edit_as_human(title, human, "humain")
    hub.other_source_says(entity, name=name, shortDescription="Texte de la plateforme.",
                          keyword="covoiturage")
    hub.sync()
    page = wiki.page_text(title)
    assert "Modifié par un humain." in page, "the human text stays"
    assert "Texte de la plateforme." not in page
    conflicts = [c for c in list_conflicts(hub.store, "fabmob") if c.entity == entity]
    assert [(c.parameter, c.hub_value) for c in conflicts] == [("shortDescription", "Texte de la plateforme.")]
    assert "Modifié par un humain." in conflicts[0].source_value


def test_wrong_password_and_html_answers_are_clear_errors(wiki: Wiki, monkeypatch: pytest.MonkeyPatch) -> None:
    h = wiki_hub(wiki, monkeypatch)
    monkeypatch.setenv(str(h.config.sources[0].credentials["password_env"]), "wrong")
    report = sync_source(h.config, h.ingestor, "fabmob")
    assert report.error is not None and "login" in report.error
    assert "login" in str(source_statuses(h.store)["fabmob"]["last_error"])
    with FaultyProxy(wiki.api_url) as proxy:
        proxy.fail_next("html", count=50)
        html = wiki_hub(wiki, monkeypatch, url=proxy.url)
        report = sync_source(html.config, html.ingestor, "fabmob")
    assert report.error is not None and "not JSON" in report.error, report.error


def test_faults_are_retried_and_the_sync_completes(wiki: Wiki, monkeypatch: pytest.MonkeyPatch) -> None:
    with FaultyProxy(wiki.api_url, timeout_delay=8.0) as proxy:
        h = wiki_hub(wiki, monkeypatch, url=proxy.url)
        h.sync()
        title = "Rencontre des fabriques 2021"
        text = wiki.page_text(title)
        wiki.edit_as_human(title, text.replace("|Lieu=", "|Lieu=Grande salle, ", 1), "lieu")
        is_query = lambda method, params: params.get("action") == "query"  # noqa: E731
        proxy.fail_next("5xx", count=2, when=is_query)
        proxy.fail_next("maxlag", count=1, when=is_query)
        proxy.fail_next("ratelimited", count=1, when=is_query)
        proxy.fail_next("timeout", count=1, when=is_query)
        report = h.sync()
        assert proxy.pending() == 0, "every injected fault was met"
        assert {kind for kind, *_ in proxy.faults_served} >= {"5xx", "maxlag", "ratelimited", "timeout"}
        assert report.read.updated == 1
        assert any("Grande salle" in v for v in h.values(h.entity(title), "locality"))


def test_a_new_hub_entity_gets_a_page_from_the_template(hub: HubUnderTest, wiki: Wiki) -> None:
    entity = "https://example.org/commun/observatoire-des-tiers-lieux"
    subject = ox.NamedNode(entity)
    record = Record(source="plateforme", source_id="observatoire", triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Commons")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal("Observatoire des tiers-lieux", language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "shortDescription"),
                  ox.Literal("Données ouvertes sur les tiers-lieux.", language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "keyword"), ox.Literal("observatoire")),
    ))
    assert hub.ingestor.ingest([record]).created == 1
    report = hub.sync()
    assert report.pushed.created == 1
    text = wiki.page_text("Observatoire des tiers-lieux")
    assert text.startswith("{{Ressource") and "|shortDescription=Données ouvertes sur les tiers-lieux." in text
    assert hub.entity("Observatoire des tiers-lieux") == entity, "the page is the same entity, not a twin"
    again = hub.sync()
    assert (again.read.created, again.pushed.created) == (0, 0)


def test_an_edit_racing_the_hub_is_retried_on_fresh_text(hub: HubUnderTest, wiki: Wiki,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    title = "La Fabrique des Mobilités"
    entity = hub.entity(title)
    name = next(iter(hub.values(entity, "name")))
    hub.other_source_says(entity, name=name, shortDescription="Accélérateur de communs (plateforme).")
    real_edit = WikiClient.edit
    raced: list[str] = []

    def racing_edit(self: WikiClient, page_title: str, text: str, *args: object, **kwargs: object) -> object:
        if not raced:  # a person saves the same line just before the hub
            raced.append(page_title)
            current = wiki.page_text(page_title)
            human = current.replace("Accélérateur de communs pour les mobilités.",
                                    "Accélérateur (édition humaine).", 1)
            wiki.edit_as_human(page_title, human, "course")
        return real_edit(self, page_title, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(WikiClient, "edit", racing_edit)
    hub.sync()
    assert raced == [title]
    page = wiki.page_text(title)
    assert "Accélérateur (édition humaine)." in page, "the racing human edit survives"
    conflicts = list_conflicts(hub.store, "fabmob")
    assert [c.parameter for c in conflicts if c.entity == entity] == ["shortDescription"]


def test_resolving_a_conflict_for_the_hub_writes_its_value(hub: HubUnderTest, wiki: Wiki) -> None:
    title = "Beta.gouv"
    entity = hub.entity(title)
    name = next(iter(hub.values(entity, "name")))
    text = wiki.page_text(title)
    wiki.edit_as_human(title, text.replace("|shortDescription=", "|shortDescription=Humain : ", 1), "h")
    hub.other_source_says(entity, name=name, shortDescription="Valeur de la plateforme.")
    hub.sync()
    [conflict] = [c for c in list_conflicts(hub.store, "fabmob") if c.entity == entity]
    resolve(hub.ingestor, conflict.id, "hub")
    hub.sync()
    assert "|shortDescription=Valeur de la plateforme." in wiki.page_text(title)
    assert not [c for c in list_conflicts(hub.store, "fabmob") if c.entity == entity]


def test_discover_drafts_a_usable_mapping(wiki: Wiki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from connectors.mediawiki.discover import discover_wiki
    from connectors.mediawiki.mapping import load_mapping

    h = wiki_hub(wiki, monkeypatch)
    draft = discover_wiki(h.config.sources[0])
    path = tmp_path / "draft.toml"
    path.write_text(draft)
    mapping = load_mapping(path)
    ressource = mapping.template("Ressource")
    assert ressource is not None and ressource.hub_class == "Commons"
    title = ressource.param("Title")
    assert title is not None and title.property == "name"
    assert "Tiers-lieu" in draft

