"""The official French territories, available offline in every hub.

The reference (communes with their communes déléguées/associées and municipal arrondissements,
EPCI, departments, regions, postal codes, population, former codes of merged communes) is vendored
from the npm package `@etalab/decoupage-administratif` under `data/` (see its README), so a hub
can place records in their commune and count them per territory without any network access.
`index` answers look-ups in memory; `reference` loads the same data into the store as the source
"territoires" so that SPARQL sees the territories and their hierarchy.
"""
