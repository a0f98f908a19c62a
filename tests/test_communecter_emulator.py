"""The Communecter test double answers like the 2018 Communecter code (real HTTP through httpx)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.servers.communecter import Communecter, running_communecter
from tests.servers.communecter_php import php_params

EMAIL, PASSWORD, USERNAME = "alice@example.org", "s3cret-pass", "alice"


@pytest.fixture
def cm() -> Iterator[Communecter]:
    with running_communecter() as server:
        yield server


@pytest.fixture
def http(cm: Communecter) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cm.url, timeout=10) as client:
        yield client


def login(cm: Communecter, client: httpx.Client) -> str:
    uid = cm.add_user(EMAIL, PASSWORD, USERNAME)
    answer = client.post("/co2/person/authenticate", data={"email": EMAIL, "pwd": PASSWORD}).json()
    assert answer["result"] is True
    return uid


def org(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "NGO", **extra}


# ---------------------------------------------------------------- /api/<controller>/get


def test_paging_walks_all_entities_keyed_by_id(cm: Communecter, http: httpx.Client) -> None:
    ids = {cm.add_element("organizations", org(f"Asso {i:03d}")) for i in range(120)}
    seen: list[str] = []
    sizes = []
    for index in (0, 50, 100, 150):
        answer = http.get(f"/api/organization/get/limit/50/index/{index}/format/json").json()
        sizes.append(len(answer["entities"]))
        assert answer["meta"]["limit"] == 50
        assert answer["meta"]["next"] == f"{cm.url}/api/organization/get/limit/50/index/{index + 50}/format/json"
        assert ("previous" in answer["meta"]) == (index != 0)
        if answer["entities"]:
            for oid, entity in answer["entities"].items():
                assert entity["url"]["api"] == f"{cm.url}/api/organization/get/id/{oid}"
            seen += list(answer["entities"])
    assert sizes == [50, 50, 20, 0]
    assert len(seen) == 120 and set(seen) == ids
    # an empty page is a PHP empty array: a JSON list, not an object
    assert http.get("/api/organization/get/limit/50/index/150").json()["entities"] == []
    # the "next" URL resolves against the emulator
    assert len(http.get(http.get("/api/organization/get/limit/50").json()["meta"]["next"]).json()["entities"]) == 50


def test_query_params_equal_path_params_and_limits_are_clamped(cm: Communecter, http: httpx.Client) -> None:
    for i in range(30):
        cm.add_element("organizations", org(f"Org {i}"))
    by_path = http.get("/api/organization/get/limit/10/index/5").json()
    by_query = http.get("/api/organization/get", params={"limit": 10, "index": 5}).json()
    assert list(by_path["entities"]) == list(by_query["entities"]) and len(by_path["entities"]) == 10
    assert http.get("/api/organization/get/limit/1000").json()["meta"]["limit"] == 500
    assert http.get("/api/organization/get/limit/0").json()["meta"]["limit"] == 50
    assert len(http.get("/api/organization/get/index/-5").json()["entities"]) == 30


def test_key_insee_and_tags_filters(cm: Communecter, http: httpx.Client) -> None:
    ours = {cm.add_element("organizations", org(f"Ours {i}", source={"key": "mine", "keys": ["mine"]})) for i in range(3)}
    cm.add_element("organizations", org("Other", source={"key": "theirs", "keys": ["theirs"]}))
    lyon = cm.add_element("organizations", org("Lyon", address={"codeInsee": "69123", "postalCode": "69001"}, tags=["a", "b"]))
    answer = http.get("/api/organization/get/key/mine").json()
    assert set(answer["entities"]) == ours
    assert "key" not in answer["meta"]["next"]  # Api::getData does not carry key into "next"
    assert set(http.get("/api/organization/get", params={"key": "mine"}).json()["entities"]) == ours
    assert list(http.get("/api/organization/get/insee/69123").json()["entities"]) == [lyon]
    assert list(http.get("/api/organization/get/tags/b,zzz").json()["entities"]) == [lyon]


def test_id_lookup_and_translated_shape(cm: Communecter, http: httpx.Client) -> None:
    member = cm.add_user("bob@example.org", "pw", "bob", name="Bob")
    oid = cm.add_element("organizations", org(
        "La Raffinerie", shortDescription="Tiers-lieu", email="contact@raff.org", url="https://raff.org",
        tags=["tiers-lieu"], address={"streetAddress": "1 rue X", "postalCode": "69001", "codeInsee": "69123",
                                      "addressLocality": "Lyon", "addressCountry": "FR", "localityId": "x"},
        geo={"latitude": "45.7", "longitude": "4.8"}, geoPosition={"type": "Point", "coordinates": [4.8, 45.7]},
        links={"members": {member: {"type": "citoyens", "isAdmin": True}}},
    ))  # fmt: skip
    answer = http.get(f"/api/organization/get/id/{oid}/format/json").json()
    assert answer["meta"] == {"limit": 1}
    entity = answer["entities"][oid]
    assert entity["@type"] == "Organization" and entity["typeCommunecter"] == "NGO"
    assert entity["url"] == {"website": "https://raff.org", "communecter": f"{cm.url}/#@laRaffinerie",
                             "api": f"{cm.url}/api/organization/get/id/{oid}"}  # fmt: skip
    assert entity["address"] == {"@type": "PostalAddress", "streetAddress": "1 rue X", "postalCode": "69001",
                                 "addressLocality": "Lyon", "codeInsee": "69123", "addressCountry": "FR"}  # fmt: skip
    assert entity["geo"] == {"@type": "GeoCoordinates", "latitude": "45.7", "longitude": "4.8"}
    assert entity["geoPosition"] == {"@type": "Point", "coordinates": [4.8, 45.7]}
    assert entity["links"]["members"] == [{"type": "Person", "name": "Bob", "url": {
        "communecter": f"{cm.url}/#@bob", "api": f"{cm.url}/api/person/get/id/{member}"}}]  # fmt: skip
    assert "updated" not in entity and entity["slug"] == "laRaffinerie"
    assert http.get("/api/organization/get/id/0123456789abcdef01234567").json()["entities"] == []


def test_events_poi_deleted_and_no_ressource_route(cm: Communecter, http: httpx.Client) -> None:
    event = cm.add_element("events", {"name": "Fête", "type": "party", "startDate": "2024-05-01 18:00:00",
                                      "endDate": "2024-05-01T23:30:00+00:00"})  # fmt: skip
    assert cm.element("events", event)["startDate"] == {"sec": 1714586400, "usec": 0}
    entity = http.get(f"/api/event/get/id/{event}").json()["entities"][event]
    assert (entity["startDate"], entity["endDate"]) == ("2024-05-01T18:00:00+00:00", "2024-05-01T23:30:00+00:00")
    poi = cm.add_element("poi", {"name": "Four", "type": "other"})
    assert http.get("/api/poi/get").json()["entities"][poi]["@type"] == "Place"
    cm.delete_element("poi", poi)
    assert cm.element("poi", poi)["state"] == "deleted"
    assert http.get("/api/poi/get").json()["entities"] == []
    cm.add_element("ressources", {"name": "Tool", "section": "offer"})
    assert http.get("/api/ressource/get").status_code == 404
    assert "text/html" in http.get("/api/ressources/get").headers["content-type"]


# ---------------------------------------------------------------- authentication


def test_authenticate_success_sets_session_cookie(cm: Communecter, http: httpx.Client) -> None:
    uid = cm.add_user(EMAIL, PASSWORD, USERNAME)
    response = http.post("/co2/person/authenticate", data={"email": "ALICE@example.org", "pwd": PASSWORD})
    answer = response.json()
    assert answer["result"] is True and answer["id"] == uid and answer["isCommunected"] is False
    assert answer["msg"] == "Vous êtes maintenant identifié : bienvenue sur communecter."
    assert "pwd" not in answer["account"] and answer["account"]["_id"] == {"$id": uid}
    assert "PHPSESSID" in response.cookies
    assert http.post("/co2/person/authenticate", data={"email": USERNAME, "pwd": PASSWORD}).json()["result"] is True


def test_authenticate_failures(cm: Communecter, http: httpx.Client) -> None:
    cm.add_user(EMAIL, PASSWORD, USERNAME)
    post = lambda data: http.post("/co2/person/authenticate", data=data)  # noqa: E731
    assert post({"email": "nobody@example.org", "pwd": "x"}).json() == {"result": False, "msg": "emailNotFound"}
    assert post({"email": EMAIL, "pwd": "wrong"}).json() == {"result": False, "msg": "emailAndPassNotMatch"}
    missing = post({"email": EMAIL})
    assert missing.status_code == 200 and missing.json()["msg"].startswith("Cette requête ne peut aboutir")
    assert "PHPSESSID" not in missing.cookies


def test_token_auth_headers(cm: Communecter) -> None:
    uid = cm.add_user(EMAIL, PASSWORD, USERNAME)
    oid = cm.add_element("organizations", org("Asso"))
    with httpx.Client(base_url=cm.url) as client:
        response = client.post("/co2/person/authenticatetoken", data={"email": EMAIL, "pwd": PASSWORD, "tokenName": "hub"})
        answer = response.json()
        assert answer["result"] is True and answer["id"] == uid and re.fullmatch(r"[0-9a-f]{32}", answer["token"])
        assert "PHPSESSID" not in response.cookies
        headers = {"X-Auth-Token": answer["token"], "X-User-Id": uid, "X-Auth-Name": "hub"}
        assert client.get(f"/co2/element/get/type/organizations/id/{oid}", headers=headers).json()["result"] is True
        bad = {**headers, "X-Auth-Token": "0" * 32}
        assert client.get(f"/co2/element/get/type/organizations/id/{oid}", headers=bad).json() == {
            "result": False, "msg": "Please login first"}  # fmt: skip
    assert "hashedToken" in cm.element("citoyens", uid)["loginTokens"][0]


# ---------------------------------------------------------------- /co2/element/get


def test_element_get_needs_login_and_returns_raw_doc(cm: Communecter, http: httpx.Client) -> None:
    oid = cm.add_element("organizations", org("Asso", links={"members": {"a" * 24: {"type": "citoyens"}}}))
    path = f"/co2/element/get/type/organizations/id/{oid}"
    assert http.get(path).json() == {"result": False, "msg": "Please login first"}
    login(cm, http)
    raw = http.post(path).json()
    assert raw["result"] is True
    doc = raw["map"]
    assert doc["_id"] == {"$id": oid} and set(doc["modified"]) == {"sec", "usec"} and isinstance(doc["updated"], int)
    assert doc["counts"]["members"] == 1
    assert http.get("/co2/element/get", params={"type": "organization", "id": oid}).json()["map"]["name"] == "Asso"
    ghost = http.get("/co2/element/get/type/organizations/id/0123456789abcdef01234567").json()
    assert ghost["result"] is True and ghost["map"]["name"] == "Unknown"


# ---------------------------------------------------------------- /co2/search/globalautocomplete


def search(http: httpx.Client, **form: Any) -> dict[str, Any]:
    response = http.post("/co2/search/globalautocomplete", data=form)
    assert response.status_code == 200
    return response.json()


def test_search_last_times_and_paging(cm: Communecter, http: httpx.Client) -> None:
    start = cm.clock.now
    ids = [cm.add_element("organizations", org(f"Org {i}", source={"key": "k", "keys": ["k"]})) for i in range(40)]
    cm.clock.advance(100)
    for seconds, oid in enumerate(ids[:3]):
        cm.clock.advance(1)
        cm.update_element("organizations", oid, {"shortDescription": f"edit {seconds}"})
    cm.add_element("organizations", org("Hidden", preferences={"private": True}))
    cm.delete_element("organizations", ids[39])
    recent = search(http, **{"searchType[]": "organizations", "lastTimes": start + 50})
    assert list(recent["results"]) == [ids[2], ids[1], ids[0]]  # updated desc
    first = recent["results"][ids[2]]
    assert first["_id"] == {"$id": ids[2]} and first["type"] == "organizations" and first["typeOrga"] == "NGO"
    assert search(http, **{"searchType[]": "organizations", "lastTimes": cm.clock.now})["results"] == []
    page1 = search(http, **{"searchType[]": "organizations", "indexMin": 0, "indexStep": 30, "count": "true"})
    page2 = search(http, **{"searchType[]": "organizations", "indexMin": 30, "indexStep": 30})
    assert page1["count"] == {"organizations": 39}
    assert len(page1["results"]) == 30 and len(page2["results"]) == 9
    assert set(page1["results"]) | set(page2["results"]) == set(ids[:39])
    assert len(search(http, **{"searchType[]": "organizations"})["results"]) == 30  # default indexStep
    assert len(search(http, **{"searchType[]": "organizations", "sourceKey[]": ["k", "x"]})["results"]) == 30
    assert search(http, **{"searchType[]": "organizations", "sourceKey": "x"})["results"] == []


def test_search_several_types_and_org_type(cm: Communecter, http: httpx.Client) -> None:
    cm.add_element("organizations", org("A"))
    cm.add_element("organizations", {"name": "B", "type": "Group"})
    cm.clock.advance(5)
    project = cm.add_element("projects", {"name": "P"})
    both = search(http, **{"searchType[]": ["organizations", "projects"]})["results"]
    assert isinstance(both, list) and both[0]["_id"] == {"$id": project} and len(both) == 3
    groups = search(http, **{"searchType[]": "Group"})["results"]
    assert [r["name"] for r in groups.values()] == ["B"]


# ---------------------------------------------------------------- /co2/element/save


def test_save_insert(cm: Communecter, http: httpx.Client) -> None:
    uid = login(cm, http)
    form = {
        "collection": "organizations", "key": "organization", "name": "Nouvelle Asso", "type": "NGO",
        "shortDescription": "<b>Bonjour</b>", "tags[]": ["a", "b"], "address[postalCode]": "69001",
        "address[codeInsee]": "69123", "geo[latitude]": "45.7", "geo[longitude]": "4.8",
        "source[key]": "hub", "source[keys][]": "hub", "source[insertOrign]": "import", "email": "",
    }  # fmt: skip
    answer = http.post("/co2/element/save", data=form).json()
    assert answer["result"] is True and answer["msg"] == "Your data are well registred"
    assert answer["reload"] is True and answer["url"] is False and answer["resquest"] == "POST"
    oid = answer["id"]
    assert answer["map"]["_id"] == {"$id": oid}
    doc = cm.element("organizations", oid)
    assert doc["shortDescription"] == "Bonjour" and doc["tags"] == ["a", "b"] and "email" not in doc
    assert doc["geo"] == {"@type": "GeoCoordinates", "latitude": "45.7", "longitude": "4.8"}
    assert doc["geoPosition"] == {"type": "Point", "coordinates": [4.8, 45.7]}
    assert doc["source"] == {"key": "hub", "keys": ["hub"], "insertOrign": "import"}
    assert doc["creator"] == uid and doc["created"] == doc["updated"] == cm.clock.now
    assert doc["modified"] == {"sec": cm.clock.now, "usec": 0} and doc["slug"] == "nouvelleAsso"
    assert doc["links"]["members"][uid] == {"type": "citoyens", "isAdmin": True}
    assert "key" not in doc and "collection" not in doc
    event = http.post("/co2/element/save", data={
        "collection": "events", "name": "Fête", "type": "party", "startDate": "2024-05-01 18:00:00",
        "endDate": "2024-05-01T23:30:00Z", f"organizer[{oid}][type]": "organizations"}).json()  # fmt: skip
    stored = cm.element("events", event["id"])
    assert stored["startDate"] == {"sec": 1714586400, "usec": 0} and stored["endDate"]["sec"] == 1714606200
    assert stored["links"]["organizer"] == {oid: {"type": "organizations"}}


def test_save_update_and_upsert(cm: Communecter, http: httpx.Client) -> None:
    login(cm, http)
    oid = cm.add_element("organizations", org("Asso", description="old", tags=["x"]))
    before = cm.element("organizations", oid)
    cm.clock.advance(60)
    answer = http.post("/co2/element/save", data={"collection": "organizations", "id": oid, "description": "new"}).json()
    assert answer["result"] is True and answer["msg"] == "Your data are well updated" and answer["id"] == oid
    doc = cm.element("organizations", oid)
    assert doc["description"] == "new" and doc["tags"] == ["x"] and doc["name"] == "Asso"
    assert doc["updated"] == before["updated"] + 60 and doc["modified"]["sec"] == doc["updated"]
    new_id = "5f0000000000000000000001"
    upsert = http.post("/co2/element/save", data={"collection": "projects", "id": new_id, "name": "P"}).json()
    assert upsert["result"] is True and upsert["id"] == new_id and cm.element("projects", new_id)["name"] == "P"


@pytest.mark.parametrize(
    ("form", "msg"),
    [
        ({"collection": "organizations", "name": "A", "type": "NGO", "links[x]": "y"}, "Contenu Invalide links"),
        ({"collection": "organizations", "name": "A", "type": "NGO", "colour": "red"}, "Contenu Invalide colour"),
        ({"collection": "organizations", "name": "A"}, "Contenu Invalide type"),
        ({"collection": "organizations", "name": "A", "type": "Club"}, "Contenu Invalide type"),
        ({"collection": "organizations", "name": "A", "type": "NGO", "geo[latitude]": "45.7"}, "Contenu Invalide geo"),
        ({"collection": "organizations", "name": "A", "type": "NGO", "source[origin]": "x"}, "Contenu Invalide source"),
        ({"collection": "events", "name": "E", "startDate": "demain", "endDate": "2024-01-01"}, "Contenu Invalide startDate"),
    ],
)
def test_save_invalid(cm: Communecter, http: httpx.Client, form: dict[str, str], msg: str) -> None:
    login(cm, http)
    answer = http.post("/co2/element/save", data=form)
    assert answer.status_code == 200
    assert answer.json() == {"result": False, "error": "400", "msg": f"Something went really bad : {msg}"}
    assert cm.elements(form["collection"]) == []


def test_save_login_first_and_bad_request(cm: Communecter, http: httpx.Client) -> None:
    form = {"collection": "organizations", "name": "A", "type": "NGO"}
    assert http.post("/co2/element/save", data=form).json() == {"result": False, "error": "401", "msg": "Login First"}
    login(cm, http)
    bad = {"result": False, "error": "400", "msg": "Bad Request : Check you parameters"}
    assert http.post("/co2/element/save", data={"name": "A"}).json() == bad
    assert http.post("/co2/element/save", json=form).json() == bad  # a JSON body never reaches $_POST


# ---------------------------------------------------------------- faults and sessions


def test_faults(cm: Communecter, http: httpx.Client) -> None:
    cm.add_element("organizations", org("A"))
    cm.fail_next("5xx")
    down = http.get("/api/organization/get")
    assert down.status_code == 503 and "text/html" in down.headers["content-type"]
    cm.fail_next("html")
    page = http.get("/api/organization/get")
    assert page.status_code == 200 and page.text.startswith("<!DOCTYPE html>")
    cm.fail_next("malformed")
    broken = http.get("/api/organization/get")
    assert broken.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        broken.json()
    cm.fail_next("slow")
    started = time.monotonic()
    assert http.get("/api/organization/get").status_code == 200 and time.monotonic() - started >= 0.5
    cm.fail_next("timeout", delay=2)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/api/organization/get", timeout=0.3)
    cm.fail_next("5xx", count=2, when=lambda method, path, params: params.get("index") == "50")
    assert http.get("/api/organization/get/index/0").status_code == 200
    assert [http.get("/api/organization/get/index/50").status_code for _ in range(3)] == [503, 503, 200]
    assert ("GET", "/api/organization/get/index/50", {"index": "50"}) in cm.requests


def test_expired_fault_and_expire_sessions(cm: Communecter, http: httpx.Client) -> None:
    uid = login(cm, http)
    oid = cm.add_element("organizations", org("A"))
    path = f"/co2/element/get/type/organizations/id/{oid}"
    cm.fail_next("expired")
    assert http.get("/api/organization/get").status_code == 200  # not a login route: fault kept
    assert http.get(path).json() == {"result": False, "msg": "Please login first"}
    assert http.get(path).json()["result"] is True
    token = http.post("/co2/person/authenticatetoken", data={"email": EMAIL, "pwd": PASSWORD, "tokenName": "t"}).json()
    headers = {"X-Auth-Token": token["token"], "X-User-Id": uid}
    cm.expire_sessions()
    assert http.get(path).json() == {"result": False, "msg": "Please login first"}
    assert httpx.get(cm.url + path, headers=headers).json() == {"result": False, "msg": "Please login first"}
    form = {"collection": "organizations", "id": oid, "name": "B"}
    assert http.post("/co2/element/save", data=form).json()["error"] == "401"
    http.post("/co2/person/authenticate", data={"email": EMAIL, "pwd": PASSWORD})
    assert http.get(path).json()["result"] is True


def test_php_form_parsing() -> None:
    pairs = [("a[b][]", "1"), ("a[b][]", "2"), ("geo[latitude]", "4"), ("x.y", "z"), ("n", "1"), ("n", "2")]
    assert php_params(pairs) == {"a": {"b": ["1", "2"]}, "geo": {"latitude": "4"}, "x_y": "z", "n": "2"}
