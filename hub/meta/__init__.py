"""The bookkeeping graph ``urn:maillage:meta``: the hub's own state, written only through here.

(The layout table is filled in below as the kinds move in.)
"""
