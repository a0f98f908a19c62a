"""A read raises the collector's first threshold while it runs and gives the process back its
settings afterwards, however it ends and however many reads overlap (maillage serve's threads)."""

from __future__ import annotations

import gc

import pytest

from hub.sync.collector import READ_THRESHOLD, fewer_collections


def test_overlapping_and_failing_reads_give_back_the_thresholds() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= READ_THRESHOLD
        with pytest.raises(RuntimeError), fewer_collections():  # a second read fails meanwhile
            raise RuntimeError("the source answered 500")
        assert gc.get_threshold()[0] >= READ_THRESHOLD, "the first read still runs"
    assert gc.get_threshold() == before
