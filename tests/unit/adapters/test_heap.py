import gc

import pytest

from netpol_gitops.adapters.heap import THRESHOLD, fewer_collections


def test_the_collector_runs_less_often_inside_and_as_before_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    with pytest.raises(KeyError), fewer_collections():  # restored on every way out
        raise KeyError
    assert gc.get_threshold() == before
