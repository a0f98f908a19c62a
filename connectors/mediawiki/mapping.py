"""The declarative mapping between one wiki's templates and the hub vocabulary.

One TOML file per wiki (named by the source's ``mapping`` key) says which pages to read, which
template maps to which hub class, how each parameter becomes a property (lists, dates, page
links) and, for writing back, the title pattern, the template a new page starts from, and which
parameters the hub may change. Everything not listed is left alone on the wiki.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.base.mapping import check_entry
from hub.config import ConfigError, read_toml

DATATYPES = ("string", "text", "date", "decimal", "iri", "file", "email", "page")


@dataclass(frozen=True)
class ParamMapping:
    """One template parameter and the hub property it carries."""

    param: str
    property: str
    datatype: str = "text"  # text: language-tagged; string: plain; page: link to another page
    split: str | None = None  # list separator, e.g. ","
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    writable: bool = True  # the hub may change it on the wiki
    readable: bool = True  # the hub reads it from the wiki; False: the wiki only shows hub data


@dataclass(frozen=True)
class TemplateMapping:
    """One data template: the pages that use it are entities of ``hub_class``."""

    template: str
    hub_class: str
    params: tuple[ParamMapping, ...]
    category: str | None = None
    title_param: str | None = None  # the parameter that names the entity, for new pages
    title_pattern: str = "{name}"
    create_text: str | None = None

    def param(self, name: str) -> ParamMapping | None:
        normal = normalise_param(name)
        return next((p for p in self.params if normalise_param(p.param) == normal), None)

    def by_property(self, prop: str) -> ParamMapping | None:
        return next((p for p in self.params if p.property == prop), None)


@dataclass(frozen=True)
class WikiMapping:
    templates: tuple[TemplateMapping, ...]
    language: str = "fr"
    namespaces: tuple[int, ...] = (0,)
    page_url: str | None = None  # e.g. "https://wiki.example.org/wiki/{title}"
    edit_summary: str = "Synchronisation depuis le hub Maillage"
    change_tag: str | None = "hub-sync"
    extra: dict[str, Any] = field(default_factory=dict)

    def template(self, name: str) -> TemplateMapping | None:
        normal = normalise_template(name)
        return next((t for t in self.templates if normalise_template(t.template) == normal), None)

    def for_class(self, hub_class: str) -> TemplateMapping | None:
        return next((t for t in self.templates if t.hub_class == hub_class), None)


def normalise_template(name: str) -> str:
    """MediaWiki template names: namespace prefix optional, first letter case-insensitive."""
    name = name.strip().replace("_", " ")
    for prefix in ("Modèle:", "Template:", "modèle:", "template:"):
        name = name.removeprefix(prefix)
    return name[:1].upper() + name[1:]


def normalise_param(name: str) -> str:
    return name.strip()


def _param(name: str, raw: Any, where: str) -> ParamMapping:
    if isinstance(raw, str):
        raw = {"property": raw}
    if not isinstance(raw, dict) or "property" not in raw:
        raise ConfigError(f"{where}: parameter {name!r} needs a property")
    datatype = raw.get("datatype", "text")
    if datatype not in DATATYPES:
        raise ConfigError(f"{where}: parameter {name!r}: datatype must be one of {', '.join(DATATYPES)}")
    unknown = set(raw) - {"property", "datatype", "split", "date_formats", "writable", "direction"}
    if unknown:
        raise ConfigError(f"{where}: parameter {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
    direction = raw.get("direction", "both")
    if direction not in ("both", "in", "out"):
        raise ConfigError(f"{where}: parameter {name!r}: direction must be 'both', 'in' or 'out'")
    return ParamMapping(
        param=name,
        property=raw["property"],
        datatype=datatype,
        split=raw.get("split"),
        date_formats=tuple(raw.get("date_formats", ("%Y-%m-%d",))),
        # sameAs names the thing's record elsewhere: read to link the two, never written back
        writable=bool(raw.get("writable", True)) and direction != "in" and raw["property"] != "sameAs",
        readable=direction != "out",
    )


def _template(raw: dict[str, Any], index: int) -> TemplateMapping:
    where = f"[[templates]] #{index + 1}"
    check_entry(raw, where, ("template", "class", "params"))
    params = tuple(_param(n, v, where) for n, v in raw["params"].items())
    if not any(p.property == "name" for p in params):
        raise ConfigError(f"{where}: one parameter must map to 'name'")
    title_param = raw.get("title_param") or next(p.param for p in params if p.property == "name")
    return TemplateMapping(
        template=raw["template"],
        hub_class=raw["class"],
        params=params,
        category=raw.get("category"),
        title_param=title_param,
        title_pattern=raw.get("title_pattern", "{name}"),
        create_text=raw.get("create_text"),
    )


def load_mapping(path: Path) -> WikiMapping:
    """Read and check a mapping file; mistakes name the template and parameter."""
    raw = read_toml(path, "mapping file")
    wiki = raw.get("wiki", {})
    templates = tuple(_template(t, i) for i, t in enumerate(raw.get("templates", [])))
    if not templates:
        raise ConfigError(f"{path}: no [[templates]]")
    return WikiMapping(
        templates=templates,
        language=wiki.get("language", "fr"),
        namespaces=tuple(wiki.get("namespaces", (0,))),
        page_url=wiki.get("page_url"),
        edit_summary=wiki.get("edit_summary", WikiMapping.edit_summary),
        change_tag=wiki.get("change_tag", "hub-sync"),
        extra={
            k: v
            for k, v in wiki.items()
            if k not in ("language", "namespaces", "page_url", "edit_summary", "change_tag")
        },
    )
