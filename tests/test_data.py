"""Tests of nn.data: TensorDataset, Subset, ConcatDataset, random_split, DataLoader (coverage,
batching, seeding, collation) and the toy data makers make_moons and make_regression."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Tensor, manual_seed
from nn.data import (ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, default_collate,
                     make_moons, make_regression, random_split)


class Numbered(Dataset):
    """Sample i is (features of i as float32, label i): not a TensorDataset, so the loader
    goes through __getitem__ and default_collate."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i


def epoch_labels(loader) -> list[list[int]]:
    return [labels.tolist() for _, labels in loader]


def numbered_tensor_dataset(n):
    return TensorDataset(np.repeat(np.arange(n, dtype=np.float32)[:, None], 2, axis=1),
                         np.arange(n))


# ----- TensorDataset -----
def test_tensor_dataset_rows_are_tuples_of_tensors():
    X = Tensor(np.arange(6.0).reshape(3, 2))
    ds = TensorDataset(X, [10, 11, 12])
    assert len(ds) == 3
    assert ds.tensors[0] is X and isinstance(ds.tensors[1], Tensor)
    x, y = ds[1]
    assert isinstance(x, Tensor) and isinstance(y, Tensor)
    assert x.tolist() == [2.0, 3.0] and y.item() == 11


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"\[3, 4\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="dim 0"):
        TensorDataset(np.float64(1.0))


def test_dataset_base_names_the_subclass():
    class Unfinished(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="Unfinished"):
        len(Unfinished())
    with pytest.raises(NotImplementedError, match="Unfinished"):
        Unfinished()[0]


# ----- DataLoader: every sample once, batch sizes, len -----
@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(),
       drop_last=st.booleans(), generic=st.booleans())
def test_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last, generic):
    dataset = Numbered(n) if generic else numbered_tensor_dataset(n)
    loader = DataLoader(dataset, batch_size, shuffle, drop_last, seed=0)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        labels = [label for _, y in batches for label in y.tolist()]
        expected_count = n - n % batch_size if drop_last else n
        assert len(labels) == expected_count and len(set(labels)) == expected_count
        assert set(labels) <= set(range(n))
        if not shuffle:
            assert labels == list(range(expected_count))
        for i, (x, y) in enumerate(batches):
            is_last_partial = i == len(batches) - 1 and not drop_last and n % batch_size
            assert len(y) == (n % batch_size if is_last_partial else batch_size)
            assert x.shape == (len(y), 2) and (x.data[:, 0] == y.data).all()
            assert not x.requires_grad and not y.requires_grad


def test_last_partial_batch_and_drop_last():
    dataset = numbered_tensor_dataset(10)
    assert epoch_labels(DataLoader(dataset, batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(dataset, batch_size=4)) == 3
    kept = DataLoader(dataset, batch_size=4, drop_last=True)
    assert epoch_labels(kept) == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(kept) == 2
    assert len(DataLoader(dataset, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(dataset, batch_size=11, drop_last=True)) == 0


@pytest.mark.parametrize("batch_size", [0, -3, 2.0, True, "4", None])
def test_batch_size_must_be_a_positive_integer(batch_size):
    message = f"batch_size must be a positive integer, got {batch_size!r}"
    with pytest.raises(ValueError, match=message):
        DataLoader(numbered_tensor_dataset(3), batch_size=batch_size)


def test_seed_or_generator_not_both():
    with pytest.raises(ValueError, match="not both"):
        DataLoader(numbered_tensor_dataset(3), seed=0, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy Generator"):
        DataLoader(numbered_tensor_dataset(3), generator=7)


# ----- DataLoader: shuffling and reproducibility -----
def test_same_seed_same_epochs_and_each_epoch_reshuffles():
    def three_epochs(seed):
        loader = DataLoader(numbered_tensor_dataset(30), batch_size=7, shuffle=True, seed=seed)
        return [epoch_labels(loader) for _ in range(3)]

    first = three_epochs(1)
    assert first == three_epochs(1)
    assert first != three_epochs(2)
    assert first[0] != first[1] != first[2]


def test_generator_is_used_directly():
    loader = DataLoader(numbered_tensor_dataset(20), batch_size=20, shuffle=True,
                        generator=np.random.default_rng(5))
    reference = np.random.default_rng(5)
    for _ in range(2):
        assert epoch_labels(loader) == [reference.permutation(20).tolist()]


def test_default_generator_is_read_at_each_epoch_so_manual_seed_counts():
    loader = DataLoader(numbered_tensor_dataset(20), batch_size=20, shuffle=True)
    manual_seed(3)  # after construction: the loader must still follow it
    first = epoch_labels(loader)
    manual_seed(3)
    assert epoch_labels(loader) == first == [np.random.default_rng(3).permutation(20).tolist()]


# ----- collation -----
def test_dtypes_are_kept():
    dataset = TensorDataset(np.zeros((4, 3), np.float32), np.arange(4), np.zeros(4, bool),
                            np.zeros(4, np.float16))
    for loader in (DataLoader(dataset, batch_size=3),
                   DataLoader(dataset, batch_size=3, collate_fn=default_collate)):
        x, y, mask, half = next(iter(loader))
        assert (x.dtype, y.dtype, mask.dtype, half.dtype) == (
            np.float32, np.int64, np.bool_, np.float16)
    x, y = next(iter(DataLoader(Numbered(5), batch_size=2)))
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_batches_of_a_grad_tensor_do_not_require_grad():
    weights = Tensor(np.ones((4, 2)), requires_grad=True)
    for loader in (DataLoader(TensorDataset(weights), batch_size=2),
                   DataLoader(TensorDataset(weights), batch_size=2, collate_fn=default_collate)):
        (batch,) = next(iter(loader))
        assert not batch.requires_grad


def test_tensor_dataset_fast_path_skips_getitem(monkeypatch):
    def per_sample_getitem(self, index):
        raise AssertionError("the fast path indexes whole batches")

    monkeypatch.setattr(TensorDataset, "__getitem__", per_sample_getitem)
    loader = DataLoader(numbered_tensor_dataset(9), batch_size=4, shuffle=True, seed=0)
    assert sorted(sum(epoch_labels(loader), [])) == list(range(9))


def test_a_tensor_dataset_subclass_keeps_its_own_getitem_in_the_loader():
    """A subclass's __getitem__ (a transform) must run: only TensorDataset itself, alone or
    under Subsets, is indexed a whole batch at a time."""
    class Scaled(TensorDataset):
        def __getitem__(self, index):
            x, y = super().__getitem__(index)
            return Tensor(x.data * 100), y

    dataset = Scaled(np.arange(4.0), np.arange(4))
    xb, yb = next(iter(DataLoader(dataset, batch_size=4)))
    assert xb.tolist() == [0.0, 100.0, 200.0, 300.0] and yb.tolist() == [0, 1, 2, 3]
    part, _ = random_split(dataset, [2, 2], seed=0)
    xb, yb = next(iter(DataLoader(part, batch_size=2)))
    assert xb.tolist() == [100.0 * label for label in yb.tolist()]


def test_default_collate_names_samples_it_cannot_stack():
    with pytest.raises(TypeError, match="not dict; pass a collate_fn"):
        default_collate([{"x": 1}, {"x": 2}])


def test_custom_collate_fn_gets_the_list_of_samples():
    seen = []

    def collate(samples):
        seen.append(samples)
        return len(samples)

    loader = DataLoader(numbered_tensor_dataset(5), batch_size=2, collate_fn=collate)
    assert list(loader) == [2, 2, 1]
    assert all(isinstance(sample, tuple) and len(sample) == 2 for sample in seen[0])


def test_generic_dataset_of_single_values():
    class Values(Dataset):
        def __init__(self, items):
            self.items = items

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    (batch,) = DataLoader(Values([1.5, 2.5]), batch_size=2)
    assert isinstance(batch, Tensor) and batch.tolist() == [1.5, 2.5]
    tensors = [Tensor([i, i], requires_grad=True) for i in (1.0, 2.0, 3.0)]
    first, second = DataLoader(Values(tensors), batch_size=2)
    assert first.tolist() == [[1.0, 1.0], [2.0, 2.0]] and second.shape == (1, 2)
    assert not first.requires_grad
    with pytest.raises(ValueError, match="collate_fn"):
        list(DataLoader(Values([np.zeros(2), np.zeros(3)]), batch_size=2))


# ----- Subset, ConcatDataset, random_split -----
def test_subset_maps_indices_in_order():
    subset = Subset(Numbered(10), [7, 2, 2, 9])
    assert len(subset) == 4
    assert [subset[i][1] for i in range(4)] == [7, 2, 2, 9]
    assert subset[-1][1] == 9
    nested = Subset(subset, [3, 0])
    assert [nested[i][1] for i in range(2)] == [9, 7]


def test_concat_dataset_indexes_across_parts():
    both = ConcatDataset([Numbered(3), numbered_tensor_dataset(0), Numbered(2)])
    assert len(both) == 5 and both.cumulative_sizes == [3, 3, 5]
    assert [both[i][1] for i in range(5)] == [0, 1, 2, 0, 1]
    assert both[-2][1] == 0 and both[-5][1] == 0
    for index in (5, -6):
        with pytest.raises(IndexError, match=f"index {index} is out of range for a "
                                             f"ConcatDataset of 5 samples"):
            both[index]
    with pytest.raises(ValueError, match="at least one dataset"):
        ConcatDataset([])
    labels = sorted(sum(epoch_labels(DataLoader(both, batch_size=2, shuffle=True, seed=0)), []))
    assert labels == [0, 0, 1, 1, 2]


def split_indices(parts) -> list[list[int]]:
    return [list(part.indices) for part in parts]


@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [10, 0]), (7, [1, 2, 3, 1]),
                                        (1, [1]), (0, [0, 0])])
def test_random_split_lengths_and_coverage(n, lengths):
    dataset = Numbered(n)
    parts = random_split(dataset, lengths, seed=1)
    assert [len(part) for part in parts] == lengths
    assert all(isinstance(part, Subset) and part.dataset is dataset for part in parts)
    assert sorted(sum(split_indices(parts), [])) == list(range(n))
    assert all(isinstance(i, int) for i in sum(split_indices(parts), []))


@pytest.mark.parametrize("n, fractions, expected", [
    (10, [0.8, 0.2], [8, 2]),
    (11, [0.5, 0.3, 0.2], [6, 3, 2]),       # ⌊5.5⌋, ⌊3.3⌋, ⌊2.2⌋ = 5, 3, 2; the 1 left: first
    (10, [1 / 3, 1 / 3, 1 / 3], [4, 3, 3]),
    (5, [0.1, 0.1, 0.8], [1, 0, 4]),        # ⌊0.5⌋, ⌊0.5⌋, ⌊4⌋ = 0, 0, 4: the 1 left: first
    (3, [0.25, 0.25, 0.25, 0.25], [1, 1, 1, 0]),
])
def test_random_split_fractions_use_torchs_rounding(n, fractions, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parts = random_split(Numbered(n), fractions, seed=0)
    assert [len(part) for part in parts] == expected
    assert sorted(sum(split_indices(parts), [])) == list(range(n))


def test_random_split_fractions_match_torch():
    torch = pytest.importorskip("torch")
    for n in (1, 7, 10, 33, 100):
        for fractions in ([0.8, 0.2], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.25] * 4,
                          [1 / 3] * 3, [0.7, 0.1, 0.1, 0.1]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                ours = random_split(Numbered(n), fractions, seed=0)
                theirs = torch.utils.data.random_split(range(n), fractions)
            assert [len(p) for p in ours] == [len(p) for p in theirs], (n, fractions)


def test_random_split_warns_about_an_empty_split():
    with pytest.warns(UserWarning, match="the split at index 3 is empty"):
        random_split(Numbered(3), [0.25, 0.25, 0.25, 0.25], seed=0)


def test_random_split_is_reproducible_and_random():
    dataset = Numbered(50)
    first = split_indices(random_split(dataset, [20, 30], seed=3))
    assert split_indices(random_split(dataset, [20, 30], seed=3)) == first
    assert split_indices(random_split(dataset, [20, 30], generator=np.random.default_rng(3))) \
        == first
    assert split_indices(random_split(dataset, [20, 30], seed=4)) != first
    assert first[0] != list(range(20))  # shuffled, not the first 20
    manual_seed(5)
    from_default = split_indices(random_split(dataset, [20, 30]))
    manual_seed(5)
    assert split_indices(random_split(dataset, [20, 30])) == from_default


@pytest.mark.parametrize("lengths, message", [
    ([3, 6], "the lengths sum to 9, but the dataset has 10 samples"),
    ([5, 6], "the lengths sum to 11, but the dataset has 10 samples"),
    ([0.5, 0.4], "lengths must be non-negative integers or fractions summing to 1"),
    ([0.6, 0.6], "lengths must be non-negative integers or fractions summing to 1"),
    ([-2, 12], "lengths must be non-negative integers or fractions summing to 1"),
    ([1.5, -0.5], "the fraction at index 0 is 1.5, not between 0 and 1"),
    ([5.0, 5.0], "lengths must be non-negative integers or fractions summing to 1"),
])
def test_random_split_errors(lengths, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        random_split(Numbered(10), lengths, seed=0)


def test_random_split_generator_arguments():
    with pytest.raises(ValueError, match="random_split takes a seed or a generator, not both"):
        random_split(Numbered(4), [2, 2], np.random.default_rng(0), seed=0)
    with pytest.raises(TypeError, match="pass an int as seed="):
        random_split(Numbered(4), [2, 2], 42)


def test_loader_over_a_split_of_a_tensor_dataset_takes_the_fast_path(monkeypatch):
    train, test = random_split(numbered_tensor_dataset(10), [7, 3], seed=0)
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda *_: pytest.fail("slow path"))
    batches = list(DataLoader(train, batch_size=4))
    assert [labels.tolist() for _, labels in batches] == [train.indices[:4], train.indices[4:]]
    assert batches[0][0].dtype == np.float32
    nested = Subset(test, [2, 0])
    assert epoch_labels(DataLoader(nested, batch_size=2)) == [[test.indices[2], test.indices[0]]]


# ----- make_moons -----
def test_make_moons_shapes_dtypes_and_balance():
    X, y = make_moons(101, random_state=0)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert (np.bincount(y) == [50, 51]).all()
    X, y = make_moons((3, 7), shuffle=False)
    assert y.tolist() == [0] * 3 + [1] * 7 and X.shape == (10, 2)
    with pytest.raises(ValueError, match="pair"):
        make_moons((1, 2, 3))


def test_make_moons_without_noise_lies_on_the_half_circles():
    X, y = make_moons(200, random_state=1)
    outer, inner = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-12)
    assert (outer[:, 1] >= -1e-12).all() and (inner[:, 1] <= 0.5 + 1e-12).all()
    # shuffle=False lists each moon in order of the angle, which runs over [0, pi] evenly
    X, _ = make_moons(10, shuffle=False)
    np.testing.assert_allclose(np.arctan2(X[:5, 1], X[:5, 0]), np.linspace(0, np.pi, 5),
                               atol=1e-12)


def test_make_moons_noise_and_reproducibility():
    X, y = make_moons(500, noise=0.1, random_state=4)
    X_again, y_again = make_moons(500, noise=0.1, random_state=np.random.default_rng(4))
    assert np.array_equal(X, X_again) and np.array_equal(y, y_again)
    assert not np.array_equal(X, make_moons(500, noise=0.1, random_state=5)[0])
    clean, _ = make_moons(500, noise=None, random_state=4)  # same shuffle, no noise
    assert 0.08 < np.std(X - clean) < 0.12
    manual_seed(11)
    first = make_moons(50, noise=0.2)
    manual_seed(11)
    second = make_moons(50, noise=0.2)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


# ----- make_regression -----
def test_make_regression_shapes_coef_and_exact_fit():
    X, y, w = make_regression(60, 5, n_informative=3, bias=2.5, coef=True, random_state=0)
    assert X.shape == (60, 5) and y.shape == (60,) and w.shape == (5,)
    assert X.dtype == y.dtype == w.dtype == np.float64
    assert (w[3:] == 0).all() and ((w[:3] > 0) & (w[:3] < 100)).all()
    np.testing.assert_allclose(X @ w + 2.5, y, rtol=1e-12, atol=1e-9)
    design = np.column_stack([X, np.ones(len(X))])
    fitted, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(fitted, [*w, 2.5], atol=1e-9)


def test_make_regression_noise_defaults_and_reproducibility():
    X, y = make_regression(2000, 2, noise=3.0, random_state=7)
    X_again, y_again = make_regression(2000, 2, noise=3.0, random_state=7)
    assert np.array_equal(X, X_again) and np.array_equal(y, y_again)
    _, _, w = make_regression(2000, 2, noise=3.0, coef=True, random_state=7)
    assert (w > 0).all()  # every feature is informative by default
    assert 2.7 < np.std(y - X @ w) < 3.3
    with pytest.raises(ValueError, match="n_informative"):
        make_regression(10, 2, n_informative=3)
