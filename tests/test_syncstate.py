"""Sync state: typed fields for what the matcher and people ask of the next push, and the
migration of states written when those hid as magic keys inside ``pushed``."""

from __future__ import annotations

import json

from hub.meta.syncstate import SyncState, state_for_entity, states_by_source_id, states_for_entity
from hub.pipeline.ingest import Ingestor
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import iri, text
from hub.vocab import DEFAULT_BASE_IRI, RDF_TYPE, term

ENTITY = "https://example.org/id/lieu"


def _ingestor() -> Ingestor:
    return Ingestor(OxigraphStore(None), DEFAULT_BASE_IRI)


def test_typed_fields_round_trip_through_the_meta_graph() -> None:
    ingestor = _ingestor()
    state = SyncState("wiki", ENTITY, "12", {"nom": "Lieu"}, baseline=True,
                      overrides={"https://w3id.org/maillage#name": "Choisi"}, forced={"ville"})
    ingestor.ingest_batch([], None, [state.update()])
    found = state_for_entity(ingestor.store, "wiki", ENTITY)
    assert found == state
    assert found is not None and found.merge_base() == {"nom": "Lieu"}
    plain = SyncState("wiki", ENTITY, "12", {"nom": "Lieu", "ville": "Rennes"})
    ingestor.ingest_batch([], None, [plain.update()])  # a later push clears what was asked
    assert state_for_entity(ingestor.store, "wiki", ENTITY) == plain


def test_a_state_written_with_the_old_magic_keys_is_read_as_typed_fields() -> None:
    ingestor = _ingestor()
    legacy = {
        "nom": "Lieu",
        "ville": "\u2063maillage: push again\u2063",  # conflicts.FORCE
        "__value__:https://w3id.org/maillage#name": "Choisi",  # syncstate.OVERRIDE + property
        "__baseline__": "1",  # matching.BASELINE
    }
    subject = SyncState("wiki", ENTITY, "12").subject
    statements = [
        (RDF_TYPE, iri(term("SyncState"))),
        (term("source"), text("wiki")),
        (term("entity"), iri(ENTITY)),
        (term("sourceId"), text("12")),
        (term("pushed"), text(json.dumps(legacy))),
    ]
    ingestor.ingest_batch([], None, [(subject, statements)])
    expected = SyncState("wiki", ENTITY, "12", {"nom": "Lieu"}, baseline=True,
                         overrides={"https://w3id.org/maillage#name": "Choisi"}, forced={"ville"})
    assert state_for_entity(ingestor.store, "wiki", ENTITY) == expected
    assert states_by_source_id(ingestor.store, "wiki", ["12"]) == {"12": expected}
    assert states_for_entity(ingestor.store, ENTITY) == [expected]
    rewritten = expected.update()[1]
    assert all("__" not in str(value) for _, value in rewritten), "written back typed, never the old keys"
