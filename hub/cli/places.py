"""The ``places`` group: town names that name several communes, and a person's choice among them.

Placing never guesses (:mod:`hub.pipeline.place`); these commands are where a person decides.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from hub.cli._common import opened, out
from hub.meta.placements import list_placements
from hub.pipeline.ingest import Ingestor
from hub.territories.index import TerritoryIndex


def _describe(codes: tuple[str, ...]) -> str:
    index = TerritoryIndex.load()
    parts = []
    for code in codes:
        commune = index.commune(code)
        if commune is None:
            parts.append(code)
            continue
        population = f", {commune.population:,} inhab." if commune.population else ""
        parts.append(f"{code} {commune.name} ({commune.department}{population})")
    return "\n".join(parts)


def places_list(
    ctx: typer.Context, format: Annotated[str, typer.Option(help="text or json")] = "text"
) -> None:
    """Town names that name several communes, each with its candidates, most populous first."""
    with opened(ctx, read_only=True) as (_, store):
        found = list_placements(store)
    if format == "json":
        sys.stdout.write(json.dumps([c.as_dict() for c in found], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "name", "entity", "communes (INSEE, department, population)")
    for c in found:
        table.add_row(c.id, c.name, c.entity, _describe(c.communes))
    out.print(table)
    out.print(f"{len(found)} name(s) to place; choose with `maillage places choose ID INSEE`")


def places_choose(
    ctx: typer.Context,
    candidate_id: Annotated[str, typer.Argument()],
    insee: Annotated[str, typer.Argument(help="The INSEE code of the commune meant")],
) -> None:
    """Place the record in this commune now and each time its source sends it again."""
    from hub.pipeline.place_again import choice_plan

    with opened(ctx) as (config, store):
        ingestor = Ingestor(store, config.base_iri, licences=config.licence_of)
        candidate, tx = choice_plan(store, ingestor.placer, candidate_id, insee)
        store.commit(tx)
    out.print(f"{candidate.entity}: {candidate.name!r} is commune {insee}", highlight=False)


def places_refresh(ctx: typer.Context) -> None:
    """Place every stored record again (records stored before placing, a new reference version)."""
    from hub.pipeline.place_again import refresh_plans

    placed = 0
    with opened(ctx) as (config, store):
        ingestor = Ingestor(store, config.base_iri, licences=config.licence_of)
        for count, tx in refresh_plans(store, ingestor.placer):
            if not tx.empty:
                store.commit(tx)
            placed += count
    out.print(f"{placed:,} record(s) naming a place were placed again; see `maillage places list`")
