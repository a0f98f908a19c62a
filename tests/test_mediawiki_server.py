"""The disposable MediaWiki and the fault-injecting proxy used by the wiki connector tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import mwclient
import pytest

from tests.servers import mediawiki as mediawiki_server
from tests.servers.faulty_proxy import FAULT_KINDS, FaultyProxy, parse_params
from tests.servers.mediawiki import FIXTURE_PAGES, Wiki

SITEINFO = {"action": "query", "meta": "siteinfo", "format": "json"}
COMMUNS = {"Registre de preuve de covoiturage", "L'Établi/Atelier vélo", "Vélo-école/Guide du formateur"}


@pytest.fixture(scope="module")
def wiki(wiki: Wiki) -> Iterator[Wiki]:
    """A wiki of this module's own: these tests read the fixture pages as written, and other
    modules edit the session's wiki (the session fixture is only asked for to check the set-up)."""
    with mediawiki_server.running_wiki() as fresh:
        yield fresh


def titles(items: list[dict[str, object]]) -> set[str]:
    return {str(item["title"]) for item in items}


def test_siteinfo_is_our_wiki(wiki: Wiki) -> None:
    general = wiki.api(action="query", meta="siteinfo")["query"]["general"]
    assert general["sitename"] == wiki.sitename
    assert general["lang"] == "fr"
    assert general["wikiid"] == mediawiki_server.DB_NAME


def test_fixture_pages_are_saved_as_written(wiki: Wiki) -> None:
    for title, text in FIXTURE_PAGES.items():
        assert wiki.page_text(title) == text.rstrip(), title


def test_bot_logs_in_and_edits_with_the_tag(wiki: Wiki) -> None:
    site = mwclient.Site(wiki.host, path=wiki.path, scheme=wiki.scheme, clients_useragent="maillage-tests/0")
    site.login(wiki.bot_user, wiki.bot_password)
    assert site.logged_in
    assert "bot" in site.api("query", meta="userinfo", uiprop="groups")["query"]["userinfo"]["groups"]

    result = site.pages["Bac à sable du hub"].edit(
        "Créée par le hub.", summary="sync", bot=True, tags=wiki.change_tag
    )
    assert result["result"] == "Success"

    changes = wiki.api(
        action="query", list="recentchanges", rctitle="Bac à sable du hub", rcprop="user|tags|flags"
    )["query"]["recentchanges"]
    assert changes[0]["user"] == "SyncBot"
    assert changes[0]["bot"] is True
    assert changes[0]["tags"] == ["hub-sync"]


def test_embeddedin_lists_the_pages_using_a_template(wiki: Wiki) -> None:
    used = wiki.api(
        action="query", list="embeddedin", eititle="Modèle:Ressource", einamespace=0, eilimit="max"
    )
    found = titles(used["query"]["embeddedin"])
    assert found == COMMUNS
    assert "Brouillon/Ressource non fermée" not in found  # an unclosed template is not transcluded


def test_categories_come_from_the_templates(wiki: Wiki) -> None:
    site = wiki.new_site()
    assert {page.name for page in site.categories["Commun"]} == COMMUNS
    members = wiki.api(action="query", list="categorymembers", cmtitle="Catégorie:Tiers-lieux", cmlimit="max")
    assert titles(members["query"]["categorymembers"]) == {
        "La Raffinerie (Paris 11e)",
        "Le WIP",
        "Tiers-lieu au tableau cassé",
    }


def test_human_edit_shows_in_recentchanges(wiki: Wiki) -> None:
    title = "Le WIP"
    text = wiki.page_text(title) + "\n\nHoraires : du mardi au dimanche."
    edit = wiki.edit_as_human(title, text, "ajout des horaires")
    changes = wiki.api(
        action="query",
        list="recentchanges",
        rcuser=wiki.human_user,
        rcprop="user|title|ids|comment|tags|flags",
    )["query"]["recentchanges"]
    mine = [c for c in changes if c["revid"] == edit["newrevid"]]
    assert mine and mine[0]["title"] == title and mine[0]["comment"] == "ajout des horaires"
    assert mine[0]["bot"] is False and mine[0]["tags"] == []
    assert wiki.page_text(title) == text


def test_admin_moves_deletes_and_restores(wiki: Wiki) -> None:
    wiki.edit_as_human("Page à déplacer", "Contenu.", "création")
    wiki.move("Page à déplacer", "Page déplacée", redirect=False)
    assert wiki.page_text("Page à déplacer") == ""
    wiki.delete("Page déplacée", "test")
    assert wiki.page_text("Page déplacée") == ""
    wiki.undelete("Page déplacée")
    assert wiki.page_text("Page déplacée") == "Contenu."


def _siteinfo(url: str, timeout: float = 10) -> httpx.Response:
    return httpx.get(url, params=SITEINFO, timeout=timeout)


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_proxy_injects_each_fault_once_then_passes_through(wiki: Wiki, kind: str) -> None:
    with FaultyProxy(wiki.api_url, timeout_delay=1.0) as proxy:
        proxy.fail_next(kind)  # type: ignore[arg-type]
        if kind in ("timeout", "lost_response"):
            with pytest.raises(httpx.ReadTimeout):
                _siteinfo(proxy.url, timeout=0.3)
        else:
            reply = _siteinfo(proxy.url)
            if kind == "5xx":
                assert reply.status_code == 503
            elif kind == "html":
                assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
                with pytest.raises(ValueError):
                    reply.json()
            else:
                assert reply.status_code == 200
                assert reply.json()["error"]["code"] == kind
                assert reply.headers["MediaWiki-API-Error"] == kind
                if kind == "maxlag":
                    assert reply.headers["Retry-After"] == "1" and reply.headers["X-Database-Lag"] == "5"
        assert proxy.pending() == 0

        reply = _siteinfo(proxy.url)
        assert reply.status_code == 200
        assert reply.json()["query"]["general"]["sitename"] == wiki.sitename
        assert [method for method, _ in proxy.requests] == ["GET", "GET"]
        assert proxy.requests[0][1]["meta"] == "siteinfo"
        assert [kind_ for kind_, _, _ in proxy.faults_served] == [kind]


def test_proxy_keeps_the_session_and_matches_posted_params(wiki: Wiki) -> None:
    with FaultyProxy(wiki.api_url) as proxy:
        site = mwclient.Site(proxy.host, path="/", scheme="http", retry_timeout=1, max_retries=3)
        site.login(wiki.bot_user, wiki.bot_password)  # cookies go through the proxy both ways
        proxy.fail_next(
            "maxlag", when=lambda method, params: method == "POST" and params.get("action") == "edit"
        )
        result = site.pages["Page du proxy"].edit("Texte via le proxy.", summary="sync", tags=wiki.change_tag)
        assert result["result"] == "Success"  # mwclient waited Retry-After, then retried
        assert [(kind, params["title"]) for kind, _, params in proxy.faults_served] == [
            ("maxlag", "Page du proxy")
        ]
        assert sum(1 for method, params in proxy.requests if params.get("action") == "edit") == 2
    assert wiki.page_text("Page du proxy") == "Texte via le proxy."


def test_parse_params_reads_query_form_and_multipart() -> None:
    assert parse_params("action=query&titles=A", "", b"") == {"action": "query", "titles": "A"}
    form = b"action=edit&title=L%27%C3%89tabli%2FAtelier+v%C3%A9lo"
    assert parse_params("format=json", "application/x-www-form-urlencoded", form) == {
        "format": "json",
        "action": "edit",
        "title": "L'Établi/Atelier vélo",
    }
    multipart = (
        b'--XX\r\nContent-Disposition: form-data; name="action"\r\n\r\nedit\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xc3\xa9t\xc3\xa9\r\n--XX--\r\n'
    )
    assert parse_params("", "multipart/form-data; boundary=XX", multipart) == {
        "action": "edit",
        "text": "été",
    }
