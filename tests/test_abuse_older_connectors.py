"""The older connectors (Communecter, a peer hub, MediaWiki) against a hostile server standing
for the platform or peer the operator configured: a redirect elsewhere must not carry the login
form, the session cookie or the token, and an answer sent a byte a second, an endless body or
JSON nested 100,000 deep must end in a clear error (docs/security.md, "Sources"). An *internal*
listener (another port of the same address: cookies are not scoped by port) must receive nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connectors.communecter.client import ClientSettings, CommunecterClient, CommunecterError
from connectors.mediawiki.client import ClientSettings as WikiSettings
from connectors.mediawiki.client import WikiClient, WikiError
from hub.config import SourceSettings
from tests.harness import HubUnderTest, Source
from tests.servers.hostile import HostileServer, Writer, hostile_server

EMAIL, PASSWORD, TOKEN, COOKIE = "bot@example.org", "mot-de-passe-7f3a", "jeton-4b1c9e", "sess-e0a2d8"
DEEP = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@pytest.fixture
def api() -> Iterator[HostileServer]:
    with hostile_server() as server:
        yield server


@pytest.fixture
def internal() -> Iterator[HostileServer]:
    with hostile_server() as server:
        server.route("/", lambda w: w.json({"result": True, "secret": "internal"}))
        yield server


def leaked(internal: HostileServer) -> list[str]:
    """What of the hub's secrets the internal service received."""
    seen = " ".join(f"{h.path} {h.headers} {h.body!r}" for h in internal.hits)
    return [s for s in (PASSWORD, TOKEN, COOKIE) if s in seen]


# -- Communecter --------------------------------------------------------------------------------------
def communecter(api: HostileServer, **settings: object) -> CommunecterClient:
    options: dict[str, object] = {"max_retries": 0, "retry_wait": 0.01, "timeout": 10, **settings}
    return CommunecterClient(api.url, EMAIL, PASSWORD, ClientSettings(**options))  # type: ignore[arg-type]


def test_communecter_login_redirected_elsewhere_keeps_the_password(
        api: HostileServer, internal: HostileServer) -> None:
    """httpx re-posts a 307'd form to wherever it points."""
    api.route("/co2/person/authenticate", lambda w: w.redirect(f"{internal.url}/", 307))
    client = communecter(api)
    with pytest.raises(CommunecterError, match="not one of this source's hosts") as caught:
        client.login()
    assert internal.hits == [] and leaked(internal) == []
    assert PASSWORD not in str(caught.value)


def test_communecter_session_cookie_and_token_stay_on_the_platform(
        api: HostileServer, internal: HostileServer) -> None:
    """A save answered by a redirect to another port of the platform's address: the cookie jar
    and the X-Auth-Token header would follow it."""
    api.route("/co2/person/authenticatetoken", lambda w: w.json(
        {"result": True, "id": "u1", "token": TOKEN}, headers={"Set-Cookie": f"PHPSESSID={COOKIE}; Path=/"}))
    api.route("/co2/element/save", lambda w: w.redirect(f"{internal.url}/", 307))
    client = communecter(api, auth="token")
    with pytest.raises(CommunecterError, match="not one of this source's hosts"):
        client.post("/co2/element/save", {"name": "x"}, auth=True, retries=0)
    assert leaked(internal) == [] and internal.hits == []
    assert [h.path for h in api.hits] == ["/co2/person/authenticatetoken", "/co2/element/save"]
    assert api.hits[1].headers.get("x-auth-token") == TOKEN, "the platform itself still gets the token"


def test_communecter_answer_sent_a_byte_at_a_time_is_given_up(api: HostileServer) -> None:
    api.route("/api/organization/get", lambda w: w.drip(b'{"entities": {}, "padding": "......"}', 0.1))
    with pytest.raises(CommunecterError, match="no complete answer within 1 s"):
        communecter(api, timeout=1).get("/api/organization/get")
    assert "/api/organization/get" not in api.finished


def test_communecter_endless_answer_stops_at_the_size_limit(api: HostileServer) -> None:
    api.route("/api/organization/get", lambda w: w.endless(b'{"entities": {}, "padding": "'))
    with pytest.raises(CommunecterError, match="over max_page_bytes"):
        communecter(api, max_page_bytes=1_000_000, timeout=30).get("/api/organization/get")
    assert "/api/organization/get" not in api.finished


def test_communecter_json_nested_100000_deep_is_a_clear_error(api: HostileServer) -> None:
    api.route("/api/organization/get", lambda w: w.send(200, DEEP))
    with pytest.raises(CommunecterError, match="nested too deep"):
        communecter(api).get("/api/organization/get")


# -- a peer hub ---------------------------------------------------------------------------------------
def peer_hub(api: HostileServer, monkeypatch: pytest.MonkeyPatch, **options: object) -> HubUnderTest:
    api.route("/health", lambda w: w.json({"hub": "https://peer.example.org/"}))
    settings = SourceSettings(name="peer", kind="hub", url=api.url, direction="read",
                              options={"timeout": 10, **options})
    return HubUnderTest(Source(settings), monkeypatch=monkeypatch)


def test_a_peer_feed_sent_a_byte_at_a_time_is_given_up(
        api: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/changes", lambda w: w.drip(b'{"orderedItems": [], "last_sequence": 0, "x": "......"}', 0.1))
    report = peer_hub(api, monkeypatch, timeout=1).sync(ok=False)
    assert report.error is not None and "no complete answer within 1 s" in report.error, report.error
    assert "/changes" not in api.finished


def test_an_endless_peer_feed_stops_at_the_size_limit(api: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/changes", lambda w: w.endless(b'{"orderedItems": [], "padding": "'))
    report = peer_hub(api, monkeypatch, max_page_bytes=1_000_000, timeout=30).sync(ok=False)
    assert report.error is not None and "over max_page_bytes" in report.error, report.error
    assert "/changes" not in api.finished


def test_a_peer_feed_nested_100000_deep_is_a_clear_error(api: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/changes", lambda w: w.send(200, DEEP))
    report = peer_hub(api, monkeypatch).sync(ok=False)
    assert report.error is not None and "nested too deep" in report.error, report.error


def test_a_peer_redirecting_elsewhere_is_refused(
        api: HostileServer, internal: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    api.route("/changes", lambda w: w.redirect(f"{internal.url}/", 302))
    report = peer_hub(api, monkeypatch).sync(ok=False)
    assert internal.hits == []
    assert report.error is not None and "not one of this source's hosts" in report.error, report.error


# -- MediaWiki ----------------------------------------------------------------------------------------
LOGIN_TOKEN = {"query": {"tokens": {"logintoken": "t+\\"}}, "batchcomplete": True}


def wiki(api: HostileServer, **settings: object) -> WikiClient:
    options: dict[str, object] = {"max_retries": 0, "retry_wait": 0.01, "timeout": 10, **settings}
    return WikiClient(f"{api.url}/w/api.php", "Bot@maillage", PASSWORD, WikiSettings(**options))  # type: ignore[arg-type]


def test_a_wiki_redirecting_its_api_elsewhere_gets_no_bot_password(
        api: HostileServer, internal: HostileServer) -> None:
    """requests re-posts a 307'd login form, bot password included, to wherever it points."""
    api.route("/w/api.php", lambda w: w.redirect(f"{internal.url}/", 307))
    internal.route("/", lambda w: w.json(LOGIN_TOKEN))
    with pytest.raises(Exception) as caught:  # any: what the internal service saw is checked first
        wiki(api)
    assert leaked(internal) == [] and internal.hits == []
    assert caught.type is WikiError and "not one of this source's hosts" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_a_wiki_session_cookie_does_not_follow_a_redirect_to_another_port(
        api: HostileServer, internal: HostileServer) -> None:
    """The login token request sets the session cookie; the login itself is sent elsewhere."""
    def answer(w: Writer) -> None:
        if w.handler.command == "POST":
            w.redirect(f"{internal.url}/", 307)
        else:
            w.json(LOGIN_TOKEN, headers={"Set-Cookie": f"wikisession={COOKIE}; Path=/; HttpOnly"})
    api.route("/w/api.php", answer)
    with pytest.raises(Exception) as caught:  # any: what the internal service saw is checked first
        wiki(api)
    assert leaked(internal) == [] and internal.hits == []
    assert caught.type is WikiError and "not one of this source's hosts" in str(caught.value)


def test_a_wiki_answer_sent_a_byte_at_a_time_is_given_up(api: HostileServer) -> None:
    api.route("/w/api.php", lambda w: w.drip(json.dumps(LOGIN_TOKEN).encode(), 0.1))
    with pytest.raises(WikiError, match="no complete answer within 1 s"):
        wiki(api, timeout=1)
    assert "/w/api.php" not in api.finished


def test_an_endless_wiki_answer_stops_at_the_size_limit(api: HostileServer) -> None:
    api.route("/w/api.php", lambda w: w.endless(b'{"query": {"padding": "'))
    with pytest.raises(WikiError, match="over max_page_bytes"):
        wiki(api, max_page_bytes=1_000_000, timeout=30)
    assert "/w/api.php" not in api.finished


def test_wiki_json_nested_100000_deep_is_a_clear_error(api: HostileServer) -> None:
    api.route("/w/api.php", lambda w: w.send(200, DEEP))
    with pytest.raises(WikiError, match="nested too deep"):
        wiki(api)
