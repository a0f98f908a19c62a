"""A hostile upstream: a JSON API or a website the operator configured, compromised or malicious,
answers to make the hub reach other machines, leak its credentials, wait forever, fill its memory,
or stop reading the rest of the source (docs/security.md, "Sources").

Each attack runs against the real connectors through a hub syncing them (tests/harness.py); the
hostile server is a real HTTP server whose answers are scripted byte by byte
(tests/servers/hostile.py), and an *internal* listener stands for the service the attacker wants
to reach: it must receive nothing. Records read before the attack stay in the hub.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.config import SourceSettings
from hub.iris import graph_iri
from hub.meta.provenance import stored_records
from hub.meta.quarantine import list_quarantine
from tests.harness import HubUnderTest, Source
from tests.servers.common import wait_until
from tests.servers.hostile import HostileServer, Writer, hostile_server
from tests.servers.hub import serving

TOKEN = "jeton-secret-9d2e7a"
MAPPING = """
[auth]
kind = "{kind}"
token = "token_env"
header = "{header}"

[[endpoints]]
name = "lieux"
path = "/lieux"
class = "Place"
records = "results"
id = "id"
paging = {paging}
[endpoints.fields]
name = "name"
"latitude" = {{ property = "latitude", datatype = "decimal", invalid = "skip" }}
"""
NEXT = '{ kind = "next", next = "next" }'
PAGE = '{ kind = "page", page = "page", size = "size", size_value = 2 }'


def places(*ids: str) -> list[dict[str, object]]:
    return [{"id": i, "name": f"Tiers-lieu {i}"} for i in ids]


@pytest.fixture
def api() -> Iterator[HostileServer]:
    with hostile_server() as server:
        yield server


@pytest.fixture
def internal() -> Iterator[HostileServer]:
    with hostile_server() as server:
        server.route("/", lambda w: w.json({"secret": "internal"}))
        yield server


def api_hub(tmp_path: Path, api: HostileServer, monkeypatch: pytest.MonkeyPatch, paging: str = NEXT,
            kind: str = "bearer", header: str = "Authorization", **options: object) -> HubUnderTest:
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING.format(kind=kind, header=header, paging=paging), encoding="utf-8")
    settings = SourceSettings(name="api", kind="jsonapi", url=api.url, mapping=str(path), direction="read",
                              credentials={"token_env": "HOSTILE_TOKEN"},
                              options={"retry_wait": 0.01, "max_retries": 0, "timeout": 10, **options})
    return HubUnderTest(Source(settings, {"HOSTILE_TOKEN": TOKEN}), monkeypatch=monkeypatch)


def first_page_then(api: HostileServer, then: str) -> None:
    """Page 1 holds a record; its ``next`` link is ``then``."""
    api.route("/lieux", lambda w: w.json({"results": places("a"), "next": then}))


# -- SSRF: links, redirects and exchanges that point elsewhere ---------------------------------------
ELSEWHERE = [
    "http://127.0.0.1:{port}/",  # the API's host, another port: another service
    "http://localhost:{port}/",
    "http://2130706433:{port}/",  # 127.0.0.1 as one decimal number
    "http://0177.0.0.1:{port}/",  # octal
    "http://0.0.0.0:{port}/",
    "http://[::1]:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:{port}#@{api}/",
    "http://{api}@127.0.0.1:{port}/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_GET",
    "ftp://127.0.0.1:{port}/",
    "http://[::1:{port}/",
    "http://{api}/" + "x" * 100_000,
]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_a_next_link_elsewhere_is_refused_before_connecting(
        api: HostileServer, internal: HostileServer, target: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    link = target.format(port=internal.port, api=api.url.split("//", 1)[1])
    first_page_then(api, link)
    hub = api_hub(tmp_path, api, monkeypatch)
    report = hub.sync(ok=False)
    assert internal.hits == [], "the internal service received a request"
    assert report.error is not None and ("not one of this source's hosts" in report.error
                                         or "only http(s)" in report.error
                                         or "not a valid address" in report.error), report.error
    assert len(report.error) < 2000
    assert TOKEN not in report.error
    assert hub.holds(hub.entity("lieux/a")), "the page read before the link is kept"


def test_a_redirect_elsewhere_is_refused_and_the_api_key_stays_home(
        api: HostileServer, internal: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx drops ``Authorization`` on a redirect to another origin, not an API-key header."""
    api.route("/lieux", lambda w: w.redirect(f"{internal.url}/", 307))
    hub = api_hub(tmp_path, api, monkeypatch, kind="header", header="X-Api-Key")
    report = hub.sync(ok=False)
    assert internal.hits == [], f"the API key went to {internal.hits[0].headers.get('x-api-key')!r}"
    assert report.error is not None and "not one of this source's hosts" in report.error


def test_a_redirect_within_the_api_is_followed_with_the_token(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/lieux", lambda w: w.redirect("/v2/lieux", 301))
    api.route("/v2/lieux", lambda w: w.json({"results": places("a"), "next": None}))
    hub = api_hub(tmp_path, api, monkeypatch)
    hub.sync()
    assert hub.holds(hub.entity("lieux/a"))
    assert [h.headers.get("authorization") for h in api.hits] == [f"Bearer {TOKEN}"] * 2


EXCHANGE = """
[auth]
kind = "token_exchange"
url = "/api/connexion/"
fields = {{ password = "token_env" }}
token_field = "token"

[[endpoints]]
name = "lieux"
path = "/lieux"
class = "Place"
records = "results"
id = "id"
paging = {{ kind = "none" }}
[endpoints.fields]
name = "name"
"""


def test_a_token_exchange_redirected_elsewhere_keeps_the_password(
        api: HostileServer, internal: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 307 keeps the method and the body: followed, the password is posted to the other host."""
    api.route("/api/connexion/", lambda w: w.redirect(f"{internal.url}/", 307))
    path = tmp_path / "mapping.toml"
    path.write_text(EXCHANGE.format(), encoding="utf-8")
    settings = SourceSettings(name="api", kind="jsonapi", url=api.url, mapping=str(path), direction="read",
                              credentials={"token_env": "HOSTILE_TOKEN"},
                              options={"retry_wait": 0.01, "max_retries": 0, "timeout": 10})
    hub = HubUnderTest(Source(settings, {"HOSTILE_TOKEN": TOKEN}), monkeypatch=monkeypatch)
    report = hub.sync(ok=False)
    assert internal.hits == [], "the exchange's password was posted to another host"
    assert report.error is not None and TOKEN not in report.error


def test_a_host_name_that_resolves_to_loopback_is_refused(
        internal: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source's DNS name answering 127.0.0.1 (DNS rebinding) reaches nothing local; ``vm`` is
    such a name on the test machine, as any name can be for its DNS owner."""
    rebinding = HostileServer(url=f"http://vm:{internal.port}", port=internal.port)
    hub = api_hub(tmp_path, rebinding, monkeypatch)
    report = hub.sync(ok=False)
    assert internal.hits == [], "a name resolving to loopback reached the internal service"
    assert report.error is not None and "127.0.0.1" in report.error


# -- resource exhaustion ------------------------------------------------------------------------------
def test_an_endless_body_is_cut_at_the_size_limit(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/lieux", lambda w: w.endless(b'{"results": [], "padding": "'))
    hub = api_hub(tmp_path, api, monkeypatch, paging='{ kind = "none" }', max_page_bytes=1_000_000, timeout=30)
    report = hub.sync(ok=False)
    assert report.error is not None and "over max_page_bytes" in report.error, report.error
    wait_until(lambda: api.gave_up == ["/lieux"], 30, "the server to see the hub stop reading")
    assert "/lieux" not in api.finished


def test_a_gzip_bomb_stops_at_the_size_limit(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """8 MB of JSON sent as 8 kB of gzip; the source allows pages of 1 MB."""
    api.route("/lieux", lambda w: w.gzip_bomb(b'{"results": [', 8_000_000, b'], "next": null}'))
    hub = api_hub(tmp_path, api, monkeypatch, max_page_bytes=1_000_000, timeout=30)
    report = hub.sync(ok=False)
    assert report.error is not None and "over max_page_bytes" in report.error, report.error


def test_a_page_sent_a_byte_at_a_time_is_given_up_at_the_timeout(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each byte comes well within the read timeout; the whole answer does not (timeout = 1 s)."""
    body = b'{"results": [{"id": "a", "name": "Tiers-lieu a"}], "next": null}'
    api.route("/lieux", lambda w: w.drip(body, 0.1))
    hub = api_hub(tmp_path, api, monkeypatch, timeout=1)
    report = hub.sync(ok=False)
    assert report.error is not None and "timeout" in report.error, report.error
    assert report.read.created == 0
    assert "/lieux" not in api.finished


def test_headers_sent_a_byte_at_a_time_are_given_up_at_the_timeout(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/lieux", lambda w: w.drip(b'{"results": []}', 0.1, head=True))
    hub = api_hub(tmp_path, api, monkeypatch, timeout=1)
    report = hub.sync(ok=False)
    assert report.error is not None and "timeout" in report.error, report.error
    assert "/lieux" not in api.finished


def test_json_nested_100000_deep_is_a_clear_error(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/lieux", lambda w: w.json({"results": places("a"), "next": "/deep"}))
    api.route("/deep", lambda w: w.send(200, b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    hub = api_hub(tmp_path, api, monkeypatch)
    report = hub.sync(ok=False)
    assert report.error is not None and "RecursionError" not in report.error, report.error
    assert "nested" in report.error
    assert hub.holds(hub.entity("lieux/a"))


def test_a_record_nested_900_deep_is_quarantined(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deep enough to pass json.loads, and to trouble any recursive walk of the record after."""
    deep = b'{"id": "b", "name": ' + b'{"x": ' * 900 + b"1" + b"}" * 900 + b"}"
    api.route("/lieux", lambda w: w.send(200, b'{"next": null, "results": [' + deep + b"]}"))
    hub = api_hub(tmp_path, api, monkeypatch)
    assert hub.sync().read.quarantined == 1
    [entry] = list_quarantine(hub.store, "api")
    assert entry.source_id == "lieux/b" and len(entry.reason) < 1000


def test_a_retry_after_of_a_billion_seconds_is_not_waited(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/lieux", lambda w: w.json({"detail": "busy"}, 503, {"Retry-After": "1000000000"}))
    hub = api_hub(tmp_path, api, monkeypatch, max_retries=3)
    report = hub.sync(ok=False)
    assert report.error is not None and "max_retry_after" in report.error
    assert len(api.hits) == 1


def test_pages_that_repeat_forever_end_the_walk(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page counter the API ignores: every page is the first one, full, no count of pages."""
    def same(w: Writer) -> None:
        w.json({"results": places("a", "b") if len(api.hits) < 300 else []})
    api.route("/lieux", same)
    hub = api_hub(tmp_path, api, monkeypatch, paging=PAGE)
    report = hub.sync(ok=False)
    assert len(api.hits) < 10, f"{len(api.hits)} pages asked"
    assert report.error is not None and "same records" in report.error, report.error
    assert hub.holds(hub.entity("lieux/a"))


def test_pages_that_never_end_stop_at_max_pages_and_delete_nothing(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every page new (a generated listing announcing 10^12 records): the walk stops at the
    source's max_pages, and what the hub holds is not deleted on the word of a partial listing."""
    api.route("/lieux", lambda w: w.json({"results": places("old"), "next": None}))
    hub = api_hub(tmp_path, api, monkeypatch, max_pages=5)
    hub.sync()
    counter = iter(range(10**6))

    def endless(w: Writer) -> None:
        n = next(counter)
        w.json({"results": places(f"gen-{n}"), "next": f"/lieux?after={n}", "total": 10**12})
    api.route("/lieux", endless)
    api.hits.clear()
    report = hub.sync(ok=False)
    assert len(api.hits) == 5
    assert report.error is not None and "max_pages" in report.error, report.error
    assert hub.holds(hub.entity("lieux/old")), "nothing deleted"


# -- data and secrets ---------------------------------------------------------------------------------
def test_an_error_page_echoing_the_token_does_not_leak_it(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def echo(w: Writer) -> None:
        w.json({"detail": f"bad request: {w.handler.headers.get('Authorization')}"}, 400)
    api.route("/lieux", echo)
    hub = api_hub(tmp_path, api, monkeypatch)
    report = hub.sync(ok=False)
    assert report.error is not None and "HTTP 400" in report.error
    assert TOKEN not in report.error, report.error
    assert TOKEN not in caplog.text


def test_nan_and_infinite_numbers_are_not_stored(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = (b'{"next": null, "results": [{"id": "a", "name": "A", "latitude": NaN},'
            b' {"id": "b", "name": "B", "latitude": Infinity}, {"id": "c", "name": "C", "latitude": 1e999}]}')
    api.route("/lieux", lambda w: w.send(200, body))
    hub = api_hub(tmp_path, api, monkeypatch)
    hub.sync()
    for key in "abc":
        assert hub.values(hub.entity(f"lieux/{key}"), "latitude") == set()


def test_ids_carrying_iri_syntax_stay_inside_their_entity(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An id is a path component of the entity's IRI, whatever it holds."""
    ids = ["../../organization/x", "a b<c>\"d", "e#f", "g h", "i?j=k", "%2e%2e"]
    api.route("/lieux", lambda w: w.json({"results": places("plain", *ids), "next": None}))
    hub = api_hub(tmp_path, api, monkeypatch)
    assert hub.sync().read.created == len(ids) + 1
    prefix = hub.entity("lieux/plain").rsplit("/", 1)[0] + "/"
    for key in ids:
        entity = hub.entity(f"lieux/{key}")
        assert entity.startswith(prefix) and "/" not in entity[len(prefix):], entity
        assert hub.values(entity, "name") == {f"Tiers-lieu {key}"}


def test_a_literal_with_control_characters_quarantines_the_record(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/lieux", lambda w: w.json({"results": [{"id": "a", "name": "bip\u0007\u0000"},
                                                      *places("b")], "next": None}))
    hub = api_hub(tmp_path, api, monkeypatch)
    report = hub.sync()
    assert report.read.created == 1 and report.read.quarantined == 1
    [entry] = list_quarantine(hub.store, "api")
    assert entry.source_id == "lieux/a"


# -- the same attacks through a served hub and `maillage discover` ---------------------------------
def test_a_served_hub_syncing_a_hostile_api_says_why_and_keeps_answering(
        api: HostileServer, internal: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's POST /sources/api/sync gets the reason; the page read before stays served;
    the sync status an operator reads carries no secret."""
    first_page_then(api, f"http://localhost:{internal.port}/")
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING.format(kind="bearer", header="Authorization", paging=NEXT), encoding="utf-8")
    monkeypatch.setenv("MAILLAGE_TEST_HOSTILE_TOKEN", TOKEN)
    config = (f'[[sources]]\nname = "api"\nkind = "jsonapi"\nurl = "{api.url}"\nmapping = "{path}"\n'
              'direction = "read"\ncredentials = { token_env = "MAILLAGE_TEST_HOSTILE_TOKEN" }\n'
              "options = { retry_wait = 0.01, max_retries = 0, timeout = 10 }\n")
    with serving(tmp_path / "data", config, demo=False) as hub:
        answer = httpx.post(f"{hub.url}/sources/api/sync", headers=hub.auth, timeout=60)
        assert answer.status_code < 500
        done = answer.json()
        assert "not one of this source's hosts" in done["error"] and TOKEN not in json.dumps(done)
        assert internal.hits == []
        [item] = httpx.get(f"{hub.url}/api/places").json()["items"]
        assert item["name"] == "Tiers-lieu a"
        health = httpx.get(f"{hub.url}/health")
        assert health.status_code == 200 and TOKEN not in health.text
        log = (tmp_path / "data-server.log").read_text()
        assert TOKEN not in log


def test_discover_samples_only_the_source_host(api: HostileServer, internal: HostileServer, tmp_path: Path) -> None:
    """``maillage discover`` on a hostile API: a redirect elsewhere, or a --path naming another host,
    is written in the draft as refused, and nothing reaches the internal service."""
    api.route("/lieux", lambda w: w.redirect(f"http://localhost:{internal.port}/", 302))
    env = {**os.environ, "MAILLAGE_DATA": str(tmp_path / "data"), "MAILLAGE_TERRITORIES": "0",
           "HOSTILE_TOKEN": TOKEN}
    env.pop("MAILLAGE_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "hub", "discover", api.url, "--path", "/lieux", "--path",
                           f"http://127.0.0.1:{internal.port}/", "--token-env", "HOSTILE_TOKEN"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert internal.hits == []
    assert done.stdout.count("not one of this source's hosts") == 2, done.stdout + done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_a_number_with_a_huge_exponent_is_refused_not_written_out(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """xsd:decimal has no exponent: "1e999999999999" written out would be 10^12 zeros."""
    body = (b'{"next": null, "results": [{"id": "a", "name": "A", "latitude": "1e999999999999"},'
            b' {"id": "b", "name": "B", "latitude": "-1e-999999999999"}, {"id": "c", "name": "C", "latitude": 4.5e1}]}')
    api.route("/lieux", lambda w: w.send(200, body))
    hub = api_hub(tmp_path, api, monkeypatch)
    assert hub.sync().read.created == 3
    assert hub.values(hub.entity("lieux/a"), "latitude") == set()
    assert hub.values(hub.entity("lieux/b"), "latitude") == set()
    assert [float(v) for v in hub.values(hub.entity("lieux/c"), "latitude")] == [45.0]


def test_ids_with_control_characters_or_a_megabyte_are_quarantined(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An id names the record in the bookkeeping and the change feed: a NUL or a megabyte there
    would reach every consumer of /changes."""
    bad = ["b\u0000x", "c\nd", "x" * 1_000_000]
    api.route("/lieux", lambda w: w.json({"results": places("a", *bad), "next": None}))
    hub = api_hub(tmp_path, api, monkeypatch)
    report = hub.sync()
    assert report.read.created == 1 and report.read.quarantined == 3
    entries = list_quarantine(hub.store, "api")
    assert all("usable 'id'" in e.reason and len(e.source_id) < 100 for e in entries)


def test_error_messages_repeat_little_of_what_the_api_sent(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An envelope without the records' key, whose keys are a megabyte long, after a `next` link
    of 5,000 characters: the sync's error (kept in its status, logged) stays short."""
    api.route("/lieux", lambda w: w.json({"results": places("a"), "next": "/vide?" + "p" * 5000}))
    api.route("/vide", lambda w: w.json({"k" * 1_000_000: 1, "next": None}))
    hub = api_hub(tmp_path, api, monkeypatch)
    report = hub.sync(ok=False)
    assert report.error is not None and "has no 'results'" in report.error
    assert len(report.error) < 2000, f"{len(report.error):,} characters"


def test_discover_keeps_an_error_page_inside_a_comment(api: HostileServer, tmp_path: Path) -> None:
    """An error body quoted in the draft cannot add lines to it (an [auth] url of its choosing)."""
    api.route("/lieux", lambda w: w.json({"detail": 'non\n[auth]\nkind = "token_exchange"\nurl = "http://evil/"'}, 400))
    env = {**os.environ, "MAILLAGE_DATA": str(tmp_path / "data"), "MAILLAGE_TERRITORIES": "0"}
    env.pop("MAILLAGE_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "hub", "discover", api.url, "--path", "/lieux"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "HTTP 400" in done.stdout, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("url =")], done.stdout


def test_a_record_page_given_as_a_path_stays_on_the_source_site(
        api: HostileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Aides-territoires gives an aid's page as a path ("/aides/<slug>/"); "//evil.example/x" is
    not one: the record's provenance must not claim a page of another site under the platform's name."""
    api.route("/lieux", lambda w: w.json({"results": [{"id": "a", "name": "A", "page": "//evil.example/aides/a/"},
                                                      {"id": "b", "name": "B", "page": "/aides/b/"}], "next": None}))
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING.format(kind="none", header="Authorization", paging=NEXT).replace(
        'id = "id"', 'id = "id"\nurl = "page"'), encoding="utf-8")
    settings = SourceSettings(name="api", kind="jsonapi", url=api.url, mapping=str(path), direction="read",
                              options={"retry_wait": 0.01, "max_retries": 0, "timeout": 10})
    hub = HubUnderTest(Source(settings), monkeypatch=monkeypatch)
    hub.sync()
    pages = {}
    for key in "ab":
        graph = graph_iri(hub.base, "api", f"lieux/{key}")
        pages[key] = stored_records(hub.store, [graph])[graph].source_url
    assert pages["b"] == f"{api.url}/aides/b/"
    assert "evil.example" not in pages["a"], pages["a"]
