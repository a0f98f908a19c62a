"""Running SPARQL for the API: the pool of confined worker processes (``runner``), the remote
store client (``remote``), admission control (``admission``), the static checks a query passes
before it runs (``safety``, ``depth``), the update child (``update_runner``), the worker start
hook (``sandbox``) and the mapping of their failures to HTTP statuses (``statuses``).

The unit of correctness is one query: it runs under a deadline and a memory cap, in a process
that can be killed, and its failure is the query's or the hub's, never a 500.
"""
