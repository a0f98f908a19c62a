"""RDF in and out, independent of any store: parsing and serialising files and request bodies
(``io``), pyoxigraph ⇄ rdflib terms for pyshacl (``bridge``), telling SPARQL query forms apart
(``forms``), and the files shipped beside the code (``resources``).

Nothing here knows the meta graph or the pipeline; everything above may import it.
"""
