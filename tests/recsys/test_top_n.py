"""The top-N metrics (tinymed.recsys.top_n) on hand-computed cases, and their degenerate inputs."""

import math

import pytest

from tinymed.recsys import top_n

# recommended a, b, c, d, e (best first); relevant b, d, f
RECOMMENDED, RELEVANT = ["a", "b", "c", "d", "e"], {"b", "d", "f"}


def test_precision_and_recall_by_hand():
    assert top_n.hits_at_k(RECOMMENDED, RELEVANT, 4) == [False, True, False, True]
    assert top_n.precision_at_k(RECOMMENDED, RELEVANT, 4) == 2 / 4
    assert top_n.recall_at_k(RECOMMENDED, RELEVANT, 4) == 2 / 3
    assert top_n.precision_at_k(RECOMMENDED, RELEVANT, 1) == 0.0
    assert top_n.precision_at_k(RECOMMENDED, RELEVANT, 10) == 2 / 5  # the list is shorter than k


def test_average_precision_by_hand():
    # hits at positions 2 and 4: precision@2 = 1/2, precision@4 = 2/4; divided by min(k, |R|) = 3
    assert top_n.average_precision_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert top_n.average_precision_at_k(RECOMMENDED, RELEVANT, 2) == pytest.approx((1 / 2) / 2)
    assert top_n.average_precision_at_k(["b", "d", "f"], RELEVANT, 3) == 1.0


def test_ndcg_by_hand():
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert top_n.ndcg_at_k(RECOMMENDED, RELEVANT, 5) == pytest.approx(dcg / idcg)
    # gains: the list earns 3 + 1/log2(3) + 2/2, the best order 3 + 2/log2(3) + 1/2
    graded = {"a": 3.0, "b": 1.0, "c": 2.0}
    assert top_n.ndcg_at_k(["a", "b", "c"], graded, 3) == pytest.approx(
        (3 + 1 / math.log2(3) + 2 / 2) / (3 + 2 / math.log2(3) + 1 / 2))
    assert top_n.ndcg_at_k(["b", "d", "f"], RELEVANT, 3) == 1.0


@pytest.mark.parametrize("metric", [top_n.precision_at_k, top_n.recall_at_k, top_n.average_precision_at_k,
                                    top_n.ndcg_at_k])
def test_degenerate_lists(metric):
    assert metric([], RELEVANT, 3) == 0.0  # nothing recommended
    assert metric(RECOMMENDED, set(), 3) == 0.0  # nothing relevant
    assert metric(["b"], {"b"}, 1) == 1.0
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        metric(RECOMMENDED, RELEVANT, 0)
