"""Rebuild the vendored territory reference from an unpacked `@etalab/decoupage-administratif`.

The hub ships one small gzip JSON file instead of the package's 12 MB of JSON so that every hub
has the reference offline without Node; only the fields the hub uses are kept. Run it on a new
package version (`npm pack`, unpack, then `python -m hub.territories.build_data <package dir>`),
commit the result, and hubs reload the changed territories at their next start.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "territoires.json.gz"


def _read(package: Path, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((package / "data" / f"{name}.json").read_text("utf-8"))
    return rows


def build(package: Path) -> dict[str, Any]:
    """Compact rows (lists, not objects) keep the file and its parsing time small."""
    meta = json.loads((package / "package.json").read_text("utf-8"))
    communes = _read(package, "communes")
    current = [c for c in communes if c["type"] == "commune-actuelle"]
    parts = [c for c in communes if c["type"] != "commune-actuelle"]
    return {
        "package": meta["name"],
        "version": meta["version"],
        "regions": [[r["code"], r["nom"]] for r in _read(package, "regions")],
        "departements": [[d["code"], d["nom"], d["region"]] for d in _read(package, "departements")],
        # code, name, type (CC, CA, CU, METRO), population, member communes' INSEE codes
        "epci": [
            [e["code"], e["nom"], e["type"], e.get("populationMunicipale"), [m["code"] for m in e["membres"]]]
            for e in _read(package, "epci")
        ],
        # code, name, department, population, postal codes, former codes
        "communes": [
            [c["code"], c["nom"], c["departement"], c.get("population"), c.get("codesPostaux", []),
             c.get("anciensCodes", [])]
            for c in current
        ],
        # code, name, kind (d: déléguée, a: associée, m: arrondissement municipal), current commune,
        # population, postal codes
        "parts": [
            [p["code"], p["nom"], {"commune-deleguee": "d", "commune-associee": "a"}.get(p["type"], "m"),
             p.get("chefLieu") or p["commune"], p.get("population"), p.get("codesPostaux", [])]
            for p in parts
        ],
    }


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m hub.territories.build_data <unpacked npm package directory>")
    data = build(Path(argv[0]))
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    DATA.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"{DATA.name}: version {data['version']}, {len(data['communes'])} communes, {len(raw)} bytes raw")


if __name__ == "__main__":
    main(sys.argv[1:])
