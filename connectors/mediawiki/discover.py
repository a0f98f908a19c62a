"""``maillage discover``: read a wiki's templates and draft a mapping file for a person to finish.

Parameters come from the template source (``{{{name|}}}``) and from pages that use it, because
many wikis use parameters their template never declares (and the reverse).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from connectors.base.secrets import secret
from connectors.mediawiki.client import WikiClient
from hub.config import SourceSettings

_DECLARED = re.compile(r"\{\{\{\s*([^|{}]+?)\s*(?:\||\}\}\})")
SAMPLE = 20
CLASS_HINTS = [
    (("acteur", "organisation", "structure", "association", "entreprise"), "Organization"),
    (("personne", "membre", "contributeur"), "Person"),
    (("tiers-lieu", "tiers lieu", "lieu", "place"), "Place"),
    (("projet", "project"), "Project"),
    (("commun", "ressource"), "Commons"),
    (("événement", "evénement", "evenement", "event", "rencontre"), "Event"),
    (("document", "fiche", "recette", "retour"), "Resource"),
    (("territoire", "commune", "région", "département"), "Territory"),
]
PARAM_HINTS: list[tuple[tuple[str, ...], str, str]] = [
    (("title", "titre", "nom", "name"), "name", ""),
    (("shortdescription", "description courte", "résumé"), "shortDescription", ""),
    (("description",), "description", ""),
    (("tags", "mots-clés", "mots clés", "keywords"), "keyword", ', split = ","'),
    (("theme", "thème", "thèmes"), "theme", ', split = ","'),
    (("main_picture", "image", "logo"), "image", ', datatype = "file"'),
    (("site", "site web", "url", "website"), "url", ', datatype = "iri"'),
    (("startdate", "début", "date de début"), "startDate", ', datatype = "date"'),
    (("enddate", "fin", "date de fin"), "endDate", ', datatype = "date"'),
    (("code postal", "cp", "postalcode"), "postalCode", ', datatype = "string"'),
    (("adresse", "address"), "streetAddress", ', datatype = "string"'),
    (("ville", "city", "commune"), "locality", ', datatype = "string"'),
    (("email", "e-mail", "courriel", "contact"), "email", ', datatype = "email"'),
]


@dataclass
class TemplateReport:
    title: str
    declared: list[str] = field(default_factory=list)
    used: Counter[str] = field(default_factory=Counter)
    pages: int = 0


def discover_wiki(source: SourceSettings) -> str:
    client = WikiClient(source.url, secret(source, "user_env"), secret(source, "password_env"))
    reports = [_template_report(client, title) for title in _templates(client)]
    return render_mapping(source, sorted(reports, key=lambda r: -r.pages))


discover = discover_wiki  # the name `maillage discover` looks up in connectors.<kind>.discover


def _templates(client: WikiClient) -> list[str]:
    titles: list[str] = []
    for result in client.query(list="allpages", apnamespace=10, aplimit="max"):
        titles += [p["title"] for p in result.get("query", {}).get("allpages", [])]
    return titles


def _template_report(client: WikiClient, title: str) -> TemplateReport:
    report = TemplateReport(title)
    for batch in client.pages(titles=title):
        for page in batch:
            report.declared = list(dict.fromkeys(m.strip() for m in _DECLARED.findall(page.text)))
    usage = client.call("query", list="embeddedin", eititle=title, eilimit=500, einamespace=0)
    report.pages = len(usage.get("query", {}).get("embeddedin", []))
    if report.pages:
        import mwparserfromhell

        name = title.split(":", 1)[-1]
        for batch in client.pages(generator="embeddedin", geititle=title, geilimit=SAMPLE, geinamespace=0):
            for page in batch:
                for template in mwparserfromhell.parse(page.text).filter_templates(recursive=False):
                    if str(template.name).strip().lower() == name.lower():
                        report.used.update(str(p.name).strip() for p in template.params)
            break
    return report


def _guess_class(name: str) -> str | None:
    lowered = name.lower()
    return next((cls for words, cls in CLASS_HINTS if any(w in lowered for w in words)), None)


def _guess_param(name: str) -> str:
    lowered = name.lower().replace("_", " ").strip()
    for words, prop, extra in PARAM_HINTS:
        if lowered.replace(" ", "") in {w.replace(" ", "") for w in words}:
            return f'{json.dumps(name)} = {{ property = "{prop}"{extra} }}'
    return f'# {json.dumps(name)} = {{ property = "TODO" }}'


def render_mapping(source: SourceSettings, reports: list[TemplateReport]) -> str:
    lines = [
        f"# Draft mapping for {source.name} ({source.url}), written by `maillage discover`.",
        "# Check every class and property, uncomment or delete the TODO lines, then set",
        '# `mapping = "<this file>"` in the source\'s [[sources]] table.',
        "",
        "[wiki]",
        'language = "fr"',
        "namespaces = [0]",
        'change_tag = "hub-sync"',
        "",
    ]
    for report in reports:
        name = report.title.split(":", 1)[-1]
        params = list(dict.fromkeys([*report.declared, *(p for p, _ in report.used.most_common())]))
        cls = _guess_class(name)
        lines.append(
            f"# {report.title}: used by {report.pages} page(s); "
            f"declared: {', '.join(report.declared) or 'none'}"
        )
        if not report.pages or not params:
            lines.append("# (not used by any article, or without parameters: left out)\n")
            continue
        prefix = "" if cls else "# "
        lines += [
            f"{prefix}[[templates]]",
            f"{prefix}template = {json.dumps(name)}",
            f'{prefix}class = "{cls or "TODO"}"',
            f"{prefix}[templates.params]",
        ]
        lines += [
            f"{prefix}{_guess_param(p)}" if prefix == "" else f"# {_guess_param(p).lstrip('# ')}"
            for p in params
            if not p.isdigit()
        ]
        lines.append("")
    return "\n".join(lines) + "\n"
