"""Read a page's data template, and change its parameters without touching any other byte.

mwparserfromhell round-trips wikitext exactly, so writing back is: parse, set the mapped
parameters on the data template, serialise. Values are compared stripped, because MediaWiki and
Page Forms re-space parameters freely.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import mwparserfromhell
from mwparserfromhell.nodes import Template, Wikilink
from mwparserfromhell.nodes.extras import Parameter

from connectors.mediawiki.mapping import TemplateMapping, WikiMapping, normalise_template
from hub.errors import InputError

CATEGORY_PREFIXES = ("catégorie:", "category:")
_TABLE_OPEN = re.compile(r"^\s*\{\|", re.MULTILINE)
_TABLE_CLOSE = re.compile(r"^\s*\|\}", re.MULTILINE)


class WikitextError(InputError):
    """The page cannot be read safely; the message says what is broken and where."""


@dataclass
class PageData:
    """What a page says, as the mapping sees it."""

    mapping: TemplateMapping
    values: dict[str, str]
    free_text: str
    categories: list[str] = field(default_factory=list)


def _data_template(
    code: mwparserfromhell.wikicode.Wikicode, mapping: WikiMapping
) -> tuple[Template, TemplateMapping] | None:
    for template in code.filter_templates(recursive=False):
        found = mapping.template(str(template.name))
        if found is not None:
            return template, found
    return None


def _check_structure(text: str, mapping: WikiMapping, found: bool) -> None:
    if not found:
        for template in mapping.templates:
            name = re.escape(normalise_template(template.template))
            if re.search(
                r"\{\{\s*(?:(?:Modèle|Template):)?["
                + name[0]
                + name[0].lower()
                + "]"
                + name[1:]
                + r"\s*(\||\n|\}\})",
                text,
            ):
                raise WikitextError(
                    f"the {{{{{template.template}}}}} template is not closed: add the missing '}}}}'"
                )
    opened, closed = len(_TABLE_OPEN.findall(text)), len(_TABLE_CLOSE.findall(text))
    if opened != closed:
        raise WikitextError(
            f"broken table: {opened} table(s) opened with '{{|' but {closed} closed with '|}}'"
        )


def read_page(text: str, mapping: WikiMapping) -> PageData | None:
    """The page's mapped data, None when no mapped template is used, or :class:`WikitextError`."""
    code = mwparserfromhell.parse(text)
    match = _data_template(code, mapping)
    _check_structure(text, mapping, match is not None)
    if match is None:
        return None
    template, template_mapping = match
    values: dict[str, str] = {}
    for param in template.params:
        values[str(param.name).strip()] = str(param.value).strip()
    categories = [
        str(link.title).split(":", 1)[1].strip()
        for link in code.filter_wikilinks()
        if isinstance(link, Wikilink) and str(link.title).strip().lower().startswith(CATEGORY_PREFIXES)
    ]
    code.remove(template)
    free = str(code)
    for link in re.findall(r"\[\[\s*(?:Catégorie|Category)\s*:[^\]]*\]\]", free, flags=re.IGNORECASE):
        free = free.replace(link, "")
    return PageData(template_mapping, values, free.strip(), categories)


def set_params(text: str, mapping: WikiMapping, updates: Mapping[str, str | None]) -> str:
    """``text`` with the data template's parameters set (None removes one); all else identical."""
    code = mwparserfromhell.parse(text)
    match = _data_template(code, mapping)
    if match is None:
        raise WikitextError("the page has no mapped data template to update")
    template, _ = match
    for name, value in updates.items():
        current = _find(template, name)
        if value is None:
            if current is not None:
                template.remove(current, keep_field=False)
            continue
        if current is not None and str(current.value).strip() == value:
            continue
        if current is not None:
            trailing = str(current.value)[len(str(current.value).rstrip()) :]
            current.value = value + (trailing or "")
        else:
            template.add(name, value)  # preserve_spacing copies the layout of the other lines
    return str(code)


def _find(template: Template, name: str) -> Parameter | None:
    """The last parameter of that name (MediaWiki uses the last of duplicates)."""
    found = None
    for param in template.params:
        if str(param.name).strip() == name:
            found = param
    return found


def new_page(template: TemplateMapping, values: dict[str, str]) -> str:
    """The wikitext of a new page: the mapping's creation text, or a bare template call."""
    base = template.create_text or "{{" + template.template + "\n}}\n"
    code = mwparserfromhell.parse(base)
    found = next(
        (
            t
            for t in code.filter_templates(recursive=False)
            if normalise_template(str(t.name)) == normalise_template(template.template)
        ),
        None,
    )
    if found is None:
        raise WikitextError(f"create_text of {template.template} does not call the template")
    for name, value in values.items():
        found.add(name, value + "\n", preserve_spacing=False)
    return str(code)
