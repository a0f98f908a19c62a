"""Triple stores behind one interface: embedded Oxigraph (default) or a remote SPARQL server."""

from hub.store.base import Row, Store, StoreError
from hub.store.factory import open_store

__all__ = ["Row", "Store", "StoreError", "open_store"]
