"""Best-fit-decreasing packing and the step plan."""
import random

import pytest

from longdata.trainer.packing import best_fit_decreasing, make_rows, make_steps, non_padding_share


def test_best_fit_decreasing_places_every_sample_once_within_capacity():
    rng = random.Random(0)
    lengths = [rng.randint(1, 1000) for _ in range(500)]
    bins = best_fit_decreasing(lengths, 1000)
    assert sorted(i for b in bins for i in b) == list(range(500))
    assert all(sum(lengths[i] for i in b) <= 1000 for b in bins)
    lower_bound = -(-sum(lengths) // 1000)
    assert len(bins) <= 11 / 9 * lower_bound + 1  # BFD's worst-case guarantee


def test_best_fit_chooses_the_fullest_bin_that_fits():
    # decreasing: 6, 5, 4, 3 -> bins [6], [5], then 4 fits both (free 4 and 5): best fit is [6, 4];
    # 3 then fits only [5, 3] (free 5)
    assert best_fit_decreasing([3, 5, 6, 4], 10) == [[2, 3], [1, 0]]


def test_too_long_samples_are_refused():
    with pytest.raises(ValueError, match="longer than the bin"):
        best_fit_decreasing([5, 11], 10)


def test_steps_hold_batch_size_samples_in_micro_batches():
    rows = [[i] for i in range(10)]
    steps = make_steps(rows, batch_size=4, micro_batch_size=3)
    assert [[len(m) for m in s] for s in steps] == [[3, 1], [3, 1], [2]]
    packed = make_steps([[0, 1, 2], [3], [4, 5], [6]], batch_size=4, micro_batch_size=1)
    assert packed == [[[[0, 1, 2]], [[3]]], [[[4, 5]], [[6]]]]


def test_sorted_batching_groups_similar_lengths_in_shuffled_order():
    rng = random.Random(1)
    lengths = [rng.randint(1, 10_000) for _ in range(64)]
    rows = make_rows(lengths, 10_000, packing=False, sorted_batching=True, batch_size=8, rng=rng)
    steps = make_steps(rows, batch_size=8, micro_batch_size=8)
    ranges = [[lengths[row[0]] for row in s[0]] for s in steps]
    order = sorted(range(8), key=lambda k: min(ranges[k]))
    assert order != list(range(8))  # shuffled step order
    for a, b in zip(order, order[1:]):
        assert max(ranges[a]) <= min(ranges[b])  # disjoint, consecutive length ranges
    unsorted = make_steps(make_rows(lengths, 10_000, False, False, 8, rng), 8, 8)
    assert non_padding_share(steps, lengths) > non_padding_share(unsorted, lengths)


def test_non_padding_share_pads_to_the_longest_row_or_the_fixed_row_length():
    lengths = [4, 2, 3]
    assert non_padding_share([[[[0], [1]]], [[[2]]]], lengths) == 9 / 11
    assert non_padding_share([[[[0, 1], [2]]]], lengths, row_length=10) == 9 / 20
