"""Timing the hub's stages inside one benchmark run, by wrapping functions in place.

Each wrapped stage gets its *own* time, without the wrapped stages it calls, so the stages add
up to the total; a *collapsed* stage keeps its callees' time (an HTTP call and what it does
inside). Stages in other threads are counted apart, as ``ahead:<stage>``. With phases, each
stage's time is also split by the phase it ran in (a source's read or push). Used by
bench/mediawiki.py and bench/two_way.py; nothing here runs outside benchmarks.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Label = str | Callable[[tuple[Any, ...], dict[str, Any]], str]
#: (object, attribute, stage label or a function naming the stage from the call, collapse)
Target = tuple[Any, str, Label, bool]


@dataclass
class Probe:
    own: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_phase: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    collapsed_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    phases: list[tuple[str, float]] = field(default_factory=list)  # in the order they ran
    phase: str = "other"
    # per thread: [name, seconds of wrapped callees, collapsed]; a collapsed stage keeps its
    # callees' time. Stages run in another thread (a read-ahead) are labelled "ahead:<name>":
    # their time overlaps the main thread's and is not part of the sum.
    local: threading.local = field(default_factory=threading.local)

    @property
    def stack(self) -> list[list[Any]]:
        if not hasattr(self.local, "stack"):
            self.local.stack = []
        return self.local.stack

    def wrap(self, name: Label, fn: Callable[..., Any], collapse: bool = False) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = name if isinstance(name, str) else name(args, kwargs)
            if threading.current_thread() is not threading.main_thread():
                label = f"ahead:{label}"
            if self.stack and self.stack[-1][2]:
                self.collapsed_calls[label] += 1
                return fn(*args, **kwargs)
            frame = [label, 0.0, collapse]
            self.stack.append(frame)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.stack.pop()
                self.own[label] += elapsed - frame[1]
                self.by_phase[self.phase, label] += elapsed - frame[1]
                self.calls[label] += 1
                if self.stack:
                    self.stack[-1][1] += elapsed

        return timed

    def phase_of(self, kind: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """hub.sync.engine.read_source / _push: what runs inside is counted in "<source> <kind>"."""
        def timed(connector: Any, ingestor: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            outer, self.phase = self.phase, f"{name} {kind}"
            start = time.perf_counter()
            try:
                return fn(connector, ingestor, name, *args, **kwargs)
            finally:
                self.phases.append((self.phase, time.perf_counter() - start))
                self.phase = outer

        return timed


@contextmanager
def patched(targets: Sequence[Target], phases: Sequence[tuple[Any, str, str]] = ()) -> Iterator[Probe]:
    """A probe whose wrappers are in place for the duration of the block, then removed."""
    probe = Probe()
    saved = [(obj, attr, obj.__dict__[attr]) for obj, attr, *_ in [*targets, *phases]]
    try:
        for obj, attr, name, collapse in targets:
            setattr(obj, attr, probe.wrap(name, obj.__dict__[attr], collapse))
        for obj, attr, kind in phases:
            setattr(obj, attr, probe.phase_of(kind, obj.__dict__[attr]))
        yield probe
    finally:
        for obj, attr, original in saved:
            setattr(obj, attr, original)
