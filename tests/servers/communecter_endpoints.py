"""Endpoints of the Communecter TEST DOUBLE (see ``communecter.py`` for what is fact and guess)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse, Response

from tests.servers import communecter_model as model
from tests.servers.communecter_php import mongo_date, object_id, php_int, php_json

if TYPE_CHECKING:
    from tests.servers.communecter import Communecter

COLLECTIONS = ("organizations", "projects", "events", "poi", "ressources", "citoyens")
TYPE_ALIASES = {"organization": "organizations", "project": "projects", "event": "events",
                "person": "citoyens", "citoyen": "citoyens", "ressource": "ressources"}  # fmt: skip
BY_CONTROLLER = {ctrl: coll for coll, ctrl in model.CONTROLLER.items()}
MISSING_FIELDS = ("Cette requête ne peut aboutir. Merci de bien vouloir réessayer en complétant les "
                  "champs nécessaires")  # fmt: skip
PAGE = "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"


def token_hash(uid: str, token: str) -> str:
    return base64.b64encode(hmac.new(uid.encode(), token.encode(), hashlib.sha256).digest()).decode()


def set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        if not isinstance(doc.get(key), dict):
            doc[key] = {}
        doc = doc[key]
    doc[last] = copy.deepcopy(value)


def as_json(value: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(php_json(value), media_type="application/json", headers=headers)


# ---------------------------------------------------------------- endpoints


@dataclass
class Ctx:
    cm: Communecter
    get: dict[str, Any]
    post: dict[str, Any]
    host: str
    user: str | None
    arg: str


def _api_get(ctx: Ctx) -> Response:
    cm, p, collection = ctx.cm, ctx.get, BY_CONTROLLER[ctx.arg]
    limit = php_int(p.get("limit", 50))
    limit = 500 if limit > 500 else 50 if limit < 1 else limit
    index, oid = max(php_int(p.get("index", 0)), 0), str(p.get("id") or "")
    docs = [d for d in cm._db[collection].values() if d.get("state") != "deleted"]
    tags = [t for t in str(p.get("tags") or "").split(",") if t]
    cities = [c for c in str(p.get("namecity") or "").split(",") if c]
    checks = [
        (oid, lambda d: d["_id"]["$id"] == oid),
        (p.get("insee"), lambda d: (d.get("address") or {}).get("codeInsee") == p["insee"]),
        (p.get("key"), lambda d: (d.get("source") or {}).get("key") == p["key"]),
        (tags and p.get("multiTags") == "true", lambda d: d.get("tags") == tags),
        (tags and p.get("multiTags") != "true", lambda d: bool(set(tags) & set(d.get("tags") or []))),
        (len(cities) == 1, lambda d: cities[0].lower() in str((d.get("address") or {}).get("addressLocality", "")).lower()),
        (len(cities) > 1, lambda d: (d.get("address") or {}).get("addressLocality") in cities),
        (p.get("level3"), lambda d: (d.get("address") or {}).get("level3") == p["level3"]),
        (p.get("level4"), lambda d: (d.get("address") or {}).get("level4") == p["level4"]),
    ]  # fmt: skip
    for active, check in checks:
        if active:
            docs = [d for d in docs if check(d)]
    page = docs[index : index + limit]
    meta: dict[str, Any] = {"limit": 1}
    if not oid:
        base = f"http://{ctx.host}/api/{ctx.arg}/get/limit/{limit}/index/"
        extra = "".join(f"/{k}/{p[k]}" for k in ("format", "tags", "namecity") if p.get(k))
        meta = {"limit": limit, "next": f"{base}{index + limit}{extra}"}
        if index != 0:
            meta["previous"] = f"{base}{max(index - limit, 0)}{extra}"
    entities = {d["_id"]["$id"]: model.translate(d, collection, ctx.host, cm._lookup) for d in page}
    return as_json({"meta": meta, "entities": entities}, {"Access-Control-Allow-Origin": "*"})


def _login(ctx: Ctx) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    login, pwd = str(ctx.post.get("email") or "").strip(), str(ctx.post.get("pwd") or "")
    if not login or not pwd:
        return None, {"result": False, "msg": MISSING_FIELDS}
    users = ctx.cm._db["citoyens"].values()
    user = next((u for u in users if str(u.get("email", "")).lower() == login.lower() or u.get("username") == login), None)
    if user is None:
        return None, {"result": False, "msg": "emailNotFound"}
    if user.get("pwd") != hashlib.sha256((user["_id"]["$id"] + pwd).encode()).hexdigest():
        return None, {"result": False, "msg": "emailAndPassNotMatch"}
    user["lastLoginDate"] = ctx.cm.clock.now
    return user, {}


def _authenticate(ctx: Ctx) -> Response:
    user, error = _login(ctx)
    if user is None:
        return as_json(error)
    uid, sid = user["_id"]["$id"], secrets.token_hex(13)
    ctx.cm._sessions[sid] = uid
    account = {k: copy.deepcopy(v) for k, v in user.items() if k != "pwd"}
    response = as_json({"result": True, "id": uid, "isCommunected": "cp" in user, "account": account,
                      "msg": "Vous êtes maintenant identifié : bienvenue sur communecter."})  # fmt: skip
    response.set_cookie("PHPSESSID", sid, path="/")
    return response


def _authenticate_token(ctx: Ctx) -> Response:
    user, error = _login(ctx)
    if user is None:
        return as_json(error)
    uid, token = user["_id"]["$id"], secrets.token_hex(16)
    user.setdefault("loginTokens", []).append({
        "createdAt": mongo_date(ctx.cm.clock.now), "hashedToken": token_hash(uid, token),
        "type": "personalAccessToken", "name": str(ctx.post.get("tokenName") or ""), "lastTokenPart": token[-4:],
    })  # fmt: skip
    return as_json({"result": True, "id": uid, "token": token})


def _resolve(kind: str) -> str | None:
    kind = TYPE_ALIASES.get(kind, kind)
    return kind if kind in COLLECTIONS else None


def _element_get(ctx: Ctx) -> Response:
    if ctx.user is None:
        return as_json({"result": False, "msg": "Please login first"})
    kind, oid = str(ctx.get.get("type") or ""), str(ctx.get.get("id") or "")
    collection = _resolve(kind)
    if collection is None:
        return as_json({"result": False, "msg": f"Unknown element type : {kind}"})
    doc = ctx.cm._lookup(collection, oid)
    if doc is None:
        return as_json({"result": True, "map": {"_id": {"$id": oid}, "name": "Unknown", "type": collection, "ghost": True}})
    out = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("pwd", "loginTokens")}
    links = doc.get("links") or {}
    out["counts"] = {k: len(links.get(k) or {}) for k in ("followers", "follows", "members", "contributors")}
    return as_json({"result": True, "map": out})


def _search(ctx: Ctx) -> Response:
    p = ctx.post
    if p.get("tpl"):
        return HTMLResponse(PAGE.format(title="Résultats", text="rendered search results"))
    wanted = model._as_list(p.get("searchType")) or ["citoyens", "organizations", "projects", "events", "poi"]
    types = [_resolve(t) for t in wanted if t not in model.ORG_TYPES]
    if any(t in model.ORG_TYPES for t in wanted):
        types.append("organizations")
    collections = list(dict.fromkeys(t for t in types if t))
    index_min, step = max(php_int(p.get("indexMin", 0)), 0), php_int(p.get("indexStep", 30))
    step = 30 if step < 1 else step
    found, counts = [], {}
    for collection in collections:
        check = model.search_filter(p, collection)
        hits = sorted((d for d in ctx.cm._db[collection].values() if check(d)), key=lambda d: -php_int(d.get("updated", 0)))
        counts[collection] = len(hits)
        ranges = (p.get("ranges") or {}).get(collection) if isinstance(p.get("ranges"), dict) else None
        lo, hi = (php_int(ranges.get("indexMin")), php_int(ranges.get("indexMax"))) if ranges else (index_min, index_min + step)
        found += [model.simple(d, collection) for d in hits[lo:hi]]
    answer: dict[str, Any] = {}
    if not model.truthy(p.get("onlyCount")):
        if len(collections) > 1:
            answer["results"] = sorted(found, key=lambda d: -php_int(d.get("updated", 0)))
        else:
            answer["results"] = {d["_id"]["$id"]: d for d in found}
    if model.truthy(p.get("count")) or model.truthy(p.get("onlyCount")):
        only = [c for c in (_resolve(t) for t in model._as_list(p.get("countType"))) if c] or collections
        answer["count"] = {c: counts.get(c, 0) for c in only}
    return as_json(answer)


def _save(ctx: Ctx) -> Response:
    cm, post = ctx.cm, ctx.post
    if ctx.user is None:
        return as_json({"result": False, "error": "401", "msg": "Login First"})
    collection = str(post.get("collection") or "")
    if not collection:
        return as_json({"result": False, "error": "400", "msg": "Bad Request : Check you parameters"})
    oid = str(post.get("id") or "")
    try:
        if collection not in model.BINDING:
            raise model.SaveError(f"Unknown collection {collection}")
        if oid and not model.is_object_id(oid):
            raise model.SaveError(f"Invalid object ID {oid}")
        existing = cm._lookup(collection, oid) if oid else None
        fields = model.prepare(collection, post, insert=existing is None)
        if existing is None and collection == "organizations" and any(
            str(d.get("name", "")).lower() == str(fields["name"]).lower() and d.get("state") != "deleted"
            for d in cm._db[collection].values()
        ):
            raise model.SaveError("An organization with the same name already exists")
    except model.SaveError as exc:
        return as_json({"result": False, "error": "400", "msg": f"Something went really bad : {exc}"})
    if existing is not None:
        for key, value in fields.items():
            set_path(existing, key, value)
        cm._stamp(existing)
        saved = {"_id": {"$id": oid}, **fields, "updated": existing["updated"], "modified": existing["modified"]}
        msg = "Your data are well updated"
    else:
        oid = oid or object_id(cm.clock.now, next(cm._ids))
        doc: dict[str, Any] = {"_id": {"$id": oid}}
        for key, value in fields.items():
            set_path(doc, key, value)
        doc.update(created=cm.clock.now, creator=ctx.user)
        cm._stamp(doc)
        if collection in ("organizations", "projects", "events") and not doc.get("slug"):
            doc["slug"] = cm._unique_slug(str(doc["name"]))
        if collection == "organizations":
            set_path(doc, f"links.members.{ctx.user}", {"type": "citoyens", "isAdmin": True})
            set_path(cm._db["citoyens"][ctx.user], f"links.memberOf.{oid}", {"type": "organizations", "isAdmin": True})
        cm._db[collection][oid] = doc
        saved = copy.deepcopy(doc)
        msg = "Your data are well updated" if post.get("id") else "Your data are well registred"
    return as_json({"result": True, "msg": msg, "reload": True, "map": saved, "id": oid, "url": False, "resquest": "POST"})


HANDLERS: dict[str, Callable[[Ctx], Response]] = {
    "api_get": _api_get, "authenticate": _authenticate, "token": _authenticate_token,
    "element_get": _element_get, "search": _search, "save": _save,
}  # fmt: skip
