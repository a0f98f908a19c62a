"""The shipped Aides-territoires mapping (mappings/aides-territoires.toml) against the emulator
(tests/servers/aides_territoires.py), through a hub run as ``maillage sync`` runs it: aids become
grants linked to their financers and to the reference territory their perimeter names, a change
and a closed aid reach the hub, a refused API token stops the sync with a message, and a failing
page loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.jsonapi.mapping import parse_mapping
from hub.config import LICENCE_OUVERTE, ConfigError
from hub.iris import graph_iri
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.provenance import stored_records
from hub.meta.quarantine import list_quarantine
from hub.territories.reference import ensure_loaded
from hub.vocab import DEFAULT_BASE_IRI
from tests.harness import HubUnderTest, jsonapi_config, jsonapi_source
from tests.servers.aides_territoires import AidesTerritoires, running_aides_territoires
from tests.servers.hub import serving
from tests.test_placing_scenario import reference

BASE = DEFAULT_BASE_IRI
MAPPING = "mappings/aides-territoires.toml"
SUBSIDY = (1, "Subvention", 1, "Aide financière")
ENGINEERING = (5, "Ingénierie technique", 2, "Aide en ingénierie")
NEXT_YEAR = date.today() + timedelta(days=365)


@pytest.fixture
def at() -> Iterator[AidesTerritoires]:
    with running_aides_territoires() as server:
        yield server


def at_hub(at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch, token: str | None = None,
           territories: bool = False, **options: object) -> HubUnderTest:
    """A hub in memory with the emulator as its source "at" (Licence Ouverte declared); with
    ``territories``, the reference territories of the Rhône are loaded first."""
    key = token if token is not None else at.add_user("agent@collectivite.example.fr")
    source = jsonapi_source(at, name="at", mapping=MAPPING, token=key,
                            **{"retry_wait": 0.05, "max_retries": 2, "timeout": 2, **options})
    hub = HubUnderTest(source, monkeypatch=monkeypatch)
    hub.ingestor.licences = hub.config.licence_of
    if territories:
        ensure_loaded(hub.store, BASE, index=reference(("69",)))
    return hub


def aid(key: int) -> str:
    return f"aids/{key}"


def backer(key: int) -> str:
    return f"backers/{key}"


def test_aids_become_grants_with_funders_territories_deadlines_and_licence(
        at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch) -> None:
    region = at.add_backer("Région Auvergne-Rhône-Alpes", logo="https://cdn.example.org/ara.png")
    bank = at.add_backer("Banque des Territoires")
    fonds = at.add_aid(
        "Fonds régional pour les tiers-lieux", financers=[region, bank], perimeter=("Auvergne-Rhône-Alpes", 15),
        aid_types=[SUBSIDY], short_title="Tiers-lieux ARA", programs=["Fabriques de territoire"],
        description="<p>Soutien à l&#039;investissement&nbsp;:</p><ul><li>travaux</li><li>équipement</li></ul>",
        submission_deadline=NEXT_YEAR, start_date=date(2026, 1, 15),
        targeted_audiences=["Communes", "Associations"], categories=["Solidarités / Tiers-lieux"],
        origin_url="https://www.auvergnerhonealpes.fr/aides/tiers-lieux")
    lyon = at.add_aid("Appui à la végétalisation des cours", financers=[bank], perimeter=("Lyon", 1),
                      aid_types=[ENGINEERING])
    national = at.add_aid("Programme national", financers=[bank], perimeter=("France", 20))
    hub = at_hub(at, monkeypatch, territories=True, page_size=2)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (5, 0), report
    grant = hub.entity(aid(fonds))
    assert hub.values(grant, "name") == {"Fonds régional pour les tiers-lieux"}
    assert hub.values(grant, "funder") == {hub.entity(backer(region)), hub.entity(backer(bank))}
    assert hub.values(hub.entity(backer(region)), "name") == {"Région Auvergne-Rhône-Alpes"}
    assert hub.values(grant, "concernsTerritory") == {f"{BASE}territory/region-84"}
    assert hub.values(grant, "areaServed") == {"Auvergne-Rhône-Alpes"}
    assert hub.values(grant, "applicationDeadline") == {NEXT_YEAR.isoformat()}
    assert hub.values(grant, "startDate") == {"2026-01-15"}
    assert hub.values(grant, "grantKind") == {"Subvention"}
    assert hub.values(grant, "description") == {"Soutien à l'investissement :\ntravaux\néquipement"}, \
        "the text of the platform's HTML"
    assert hub.values(grant, "keyword") == {"Fabriques de territoire"}
    assert hub.values(grant, "theme") == {"Solidarités / Tiers-lieux"}
    assert hub.values(grant, "url") == {"https://www.auvergnerhonealpes.fr/aides/tiers-lieux"}
    assert len(hub.values(grant, "audience")) == 2, "each audience is a concept"
    assert hub.values(hub.entity(aid(lyon)), "concernsTerritory") == {f"{BASE}territory/commune-69123"}
    assert hub.values(hub.entity(aid(national)), "concernsTerritory") == set(), "France is no reference territory"
    assert hub.values(hub.entity(aid(national)), "areaServed") == {"France"}
    graph = graph_iri(BASE, "at", aid(fonds))
    stored = stored_records(hub.store, [graph])[graph]
    assert stored.license == LICENCE_OUVERTE
    assert stored.source_url == f"{at.url}/aides/fonds-regional-pour-les-tiers-lieux/", "the aid's page"
    exchanges = [r for r in at.requests if r.path == "/api/connexion/"]
    assert len(exchanges) == 1 and exchanges[0].method == "POST" and "x-auth-token" in exchanges[0].headers
    listings = [r for r in at.requests if r.path == "/api/aids/"]
    assert [r.query.get("page", "1") for r in listings] == ["1", "2"], "3 aids in pages of 2, by the next links"
    assert all(r.headers.get("authorization", "").startswith("Bearer ") for r in listings)


def test_a_changed_aid_is_updated_once_the_platform_cache_lets_it_through(
        at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = at.add_backer("Banque des Territoires")
    first = at.add_aid("Aide au commerce rural", financers=[bank])
    at.add_aid("Aide à la rénovation", financers=[bank])
    hub = at_hub(at, monkeypatch)
    hub.sync()
    before = last_sequence(hub.store)
    at.update_aid(first, name="Aide au commerce rural 2027")
    cached = hub.sync()
    assert (cached.read.updated, cached.read.unchanged) == (0, 3), "the day's cached listing still says the old name"
    at.clear_cache()
    changed = hub.sync()
    assert (changed.read.created, changed.read.updated, changed.read.deleted) == (0, 1, 0)
    assert [c.entity for c in read_changes(hub.store, since=before)] == [hub.entity(aid(first))]
    assert hub.values(hub.entity(aid(first)), "name") == {"Aide au commerce rural 2027"}


def test_an_aid_closed_or_unpublished_upstream_is_deleted(at: AidesTerritoires,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    bank = at.add_backer("Banque des Territoires")
    keep = at.add_aid("Aide permanente", financers=[bank])
    closing = at.add_aid("Appel à projets 2026", financers=[bank],
                         submission_deadline=date.today() + timedelta(days=1))
    draft = at.add_aid("Aide en relecture", financers=[bank])
    hub = at_hub(at, monkeypatch)
    hub.sync()
    gone = hub.entity(aid(closing)), hub.entity(aid(draft))
    at.update_aid(draft, status="draft")
    at.clock.advance(2 * 86400)  # the deadline passed; a new day, a new cache
    report = hub.sync()
    assert report.read.deleted == 2
    assert not any(hub.holds(e) for e in gone)
    assert hub.holds(hub.entity(aid(keep)))


def test_a_refused_api_token_stops_the_sync_with_a_message_and_keeps_the_data(
        at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch) -> None:
    key = at.add_user("agent@collectivite.example.fr")
    bank = at.add_backer("Banque des Territoires")
    kept = at.add_aid("Aide conservée", financers=[bank])
    hub = at_hub(at, monkeypatch, token=key)
    hub.sync()
    at.revoke(key)
    seen = len(at.requests)
    report = hub.sync(ok=False)
    assert report.error is not None and "refused the credentials" in report.error and "401" in report.error
    assert "MAILLAGE_TEST_AT_TOKEN" in report.error or "token_env" in report.error, "says what to check"
    assert hub.values(hub.entity(aid(kept)), "name") == {"Aide conservée"}
    assert [r.path for r in at.requests[seen:]] == ["/api/connexion/"], "a refusal is not retried"


def test_an_expired_bearer_token_is_exchanged_again_mid_harvest(at: AidesTerritoires,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    bank = at.add_backer("Banque des Territoires")
    for n in range(3):
        at.add_aid(f"Aide {n}", financers=[bank])
    at.expire_on = lambda path, query: path == "/api/aids/" and query.get("page") == "2"
    hub = at_hub(at, monkeypatch, page_size=2)
    report = hub.sync()
    assert report.error is None and report.read.created == 4
    assert len([r for r in at.requests if r.path == "/api/connexion/"]) == 2, "one more exchange when it expired"
    asked = [r.query.get("page", "1") for r in at.requests if r.path == "/api/aids/"]
    assert asked == ["1", "2", "2"], "the refused page is asked again with the new token"


@pytest.mark.parametrize(("fault", "said"), [("5xx", "HTTP 503"), ("html", "an HTML page instead of JSON"),
                                              ("malformed", "malformed JSON"), ("forbidden", "403")])
def test_a_page_that_keeps_failing_ends_the_sync_with_a_reason_and_deletes_nothing(
        at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch, fault: str, said: str) -> None:
    bank = at.add_backer("Banque des Territoires")
    keys = [at.add_aid(f"Aide {n}", financers=[bank]) for n in range(4)]
    hub = at_hub(at, monkeypatch, page_size=2)
    hub.sync()
    at.fail_next(fault, count=5, when=lambda path, query: path == "/api/aids/" and query.get("page") == "2")
    at.clock.advance(86400)
    report = hub.sync(ok=False)
    assert report.error is not None and said in report.error
    assert report.read.deleted == 0
    assert all(hub.holds(hub.entity(aid(k))) for k in keys), "what was stored stays"


def test_a_page_that_fails_once_is_asked_again(at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = at.add_backer("Banque des Territoires")
    for n in range(3):
        at.add_aid(f"Aide {n}", financers=[bank])
    at.fail_next("timeout", delay=3, when=lambda path, query: path == "/api/aids/" and query.get("page") == "2")
    hub = at_hub(at, monkeypatch, page_size=2)
    report = hub.sync()
    assert report.read.created == 4
    asked = [r.query.get("page", "1") for r in at.requests if r.path == "/api/aids/"]
    assert asked == ["1", "2", "2"]


def test_bad_aids_are_quarantined_with_their_source_id_and_the_reason(
        at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch) -> None:
    bank = at.add_backer("Banque des Territoires")
    closed = at.add_backer("Ancien fonds")
    at.inactive.add(closed)
    good = at.add_aid("Aide correcte", financers=[bank])
    orphan = at.add_aid("Aide d'un financeur disparu", financers=[closed])
    nameless = at.add_aid("", financers=[bank])
    hub = at_hub(at, monkeypatch)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (2, 2)
    reasons = {e.source_id: e.reason for e in list_quarantine(hub.store, "at")}
    assert set(reasons) == {aid(orphan), aid(nameless)}
    assert str(closed) in reasons[aid(orphan)] and "does not list" in reasons[aid(orphan)]
    assert "name" in reasons[aid(nameless)].lower()
    assert hub.holds(hub.entity(aid(good)))


@pytest.mark.parametrize(("change", "said"), [
    ({"id_pattern": "^[0-9]+-"}, "one group"),
    ({"id_pattern": "(["}, "not a regular expression"),
    ({"fields": {"text": "name", "perimeter": {"property": "concernsTerritory", "territory": "scale"}}},
     "territory"),
    ({"fields": {"text": "name", "perimeter": {"property": "concernsTerritory", "territory": "scale",
                                               "levels": "nulle-part"}}}, "[codes.nulle-part]"),
    ({"fields": {"text": "name", "logo": {"property": "image", "datatype": "iri", "invalid": "ignore"}}},
     "invalid"),
])
def test_mapping_mistakes_are_named_when_it_loads(change: dict[str, object], said: str) -> None:
    endpoint = {"name": "backers", "path": "/api/backers/", "class": "Organization", "records": "results",
                "id": "id", "fields": {"text": "name"}, **change}
    auth = {"kind": "token_exchange", "url": "/api/connexion/", "headers": {"X-AUTH-TOKEN": "token_env"}}
    with pytest.raises(ConfigError) as refused:
        parse_mapping({"auth": auth, "endpoints": [endpoint]})
    assert said in str(refused.value)
    fine = {**{k: v for k, v in endpoint.items() if k not in change}, "fields": {"text": "name"}}
    assert parse_mapping({"auth": auth, "endpoints": [fine]}).auth.headers == (("X-AUTH-TOKEN", "token_env"),)


def test_a_served_hub_syncs_the_aids_and_lists_them_at_api_grants(
        at: AidesTerritoires, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = at.add_user("agent@collectivite.example.fr")
    bank = at.add_backer("Banque des Territoires")
    fonds = at.add_aid("Fonds friches", financers=[bank], aid_types=[SUBSIDY], submission_deadline=NEXT_YEAR,
                       perimeter=("France", 20), description="Recyclage des friches.")
    monkeypatch.setenv("MAILLAGE_TEST_AT_SERVED_TOKEN", key)
    config = jsonapi_config(at.url, "MAILLAGE_TEST_AT_SERVED_TOKEN", name="at", mapping=MAPPING)
    with serving(tmp_path / "data", config, demo=False) as hub:
        done = httpx.post(f"{hub.url}/sources/at/sync", headers=hub.auth, timeout=60).json()
        assert done["error"] is None, done
        listing = httpx.get(f"{hub.url}/api/grants").json()
        [item] = listing["items"]
        assert item["name"] == "Fonds friches" and item["type"] == "Grant"
        grant = httpx.get(hub.url + item["href"], headers={"Accept": "application/ld+json"}).json()
        assert grant["applicationDeadline"] == NEXT_YEAR.isoformat()
        assert grant["funder"] == f"{BASE}organization/at/backers/{bank}"
        assert grant["grantKind"] == {"@value": "Subvention", "@language": "fr"}
        assert grant["areaServed"] == {"@value": "France", "@language": "fr"}
        assert item["id"] == f"{BASE}grant/at/aids/{fonds}"
