"""Datasets, mini-batches and toy data, with PyTorch's names (``torch.utils.data``).

    >>> import numpy as np
    >>> from nn.data import DataLoader, TensorDataset
    >>> X = np.arange(10, dtype=np.float32).reshape(5, 2)
    >>> y = np.array([0, 1, 0, 1, 1])
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=2)
    >>> len(loader)
    3
    >>> for xb, yb in loader:
    ...     print(xb.shape, xb.dtype, yb.tolist())
    (2, 2) float32 [0, 1]
    (2, 2) float32 [0, 1]
    (1, 2) float32 [1]
"""
import itertools
import math
import numbers
import warnings
from bisect import bisect_right

import numpy as np

from autograd_core import Node, Tensor
from autograd_core.rng import rng

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "default_collate", "make_moons", "make_regression"]


class Dataset:
    """A sized collection of samples: subclasses define ``__getitem__`` and ``__len__``.

        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return float(i), float(i * i)
        >>> [x.tolist() for x in next(iter(DataLoader(Squares(), batch_size=4)))]
        [[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 4.0, 9.0]]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Tensors of equal length along dim 0; sample ``i`` is the tuple of their rows ``i``.

        >>> ds = TensorDataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
        >>> len(ds), [t.tolist() for t in ds[1]]
        (2, [[3.0, 4.0], 1])
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            raise ValueError("TensorDataset: every tensor needs a dim 0 to index samples along")
        sizes = [len(t) for t in self.tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"TensorDataset: tensors differ in size along dim 0: {sizes}")

    def __getitem__(self, index):
        return tuple(Tensor(t.data[index]) for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i]`` is
    ``dataset[indices[i]]`` (``torch.utils.data.Subset``; the indices are not checked).

        >>> subset = Subset(TensorDataset([10, 11, 12, 13]), [3, 0])
        >>> len(subset), [x.item() for (x,) in subset]
        (2, [13, 10])
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other (``torch.utils.data.ConcatDataset``);
    ``cumulative_sizes[k]`` is the number of samples in the first k + 1.

        >>> both = ConcatDataset([TensorDataset([0, 1]), TensorDataset([2, 3, 4])])
        >>> len(both), both.cumulative_sizes, both[2][0].item(), both[-1][0].item()
        (5, [2, 5], 2, 4)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        # IndexError either way (PyTorch raises ValueError for a negative index out of range)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a ConcatDataset of "
                             f"{len(self)} samples")
        if index < 0:
            index += len(self)
        number = bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[number - 1] if number > 0 else 0
        return self.datasets[number][index - start]


def random_split(dataset, lengths, generator=None, *, seed=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping :class:`Subset` s of the given ``lengths``, in a
    random order: every index of the dataset is in exactly one of them.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1; as
    in PyTorch, fractions become ⌊fraction · len(dataset)⌋ and what is left over goes one
    sample at a time to the first lengths, round robin. The permutation comes from
    ``np.random.default_rng(seed)``, else ``generator``, else the library's default generator
    (which ``autograd_core.manual_seed`` resets), as for :class:`DataLoader`: the same seed
    gives the same split, but not the split PyTorch's generator would give.

        >>> train, test = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], seed=0)
        >>> len(train), len(test), sorted(train.indices + test.indices) == list(range(10))
        (8, 2, True)
        >>> [len(part) for part in random_split(range(11), [0.5, 0.3, 0.2], seed=0)]
        [6, 3, 2]
    """
    n = len(dataset)
    lengths = list(lengths)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:  # fractions (PyTorch's test)
        counts = []
        for number, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"random_split: the fraction at index {number} is "
                                 f"{fraction}, not between 0 and 1")
            counts.append(math.floor(n * fraction))
        for number in range(n - sum(counts)):
            counts[number % len(counts)] += 1
        lengths = counts
        for number, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"random_split: the split at index {number} is empty",
                              stacklevel=2)
    elif any(isinstance(length, bool) or not isinstance(length, numbers.Integral)
             or length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths sum to {sum(lengths)}, but the dataset "
                         f"has {n} samples")
    order = rng(_generator("random_split", seed, generator)).permutation(n).tolist()
    return [Subset(dataset, order[stop - length:stop])
            for stop, length in zip(itertools.accumulate(lengths), lengths)]


def _generator(name: str, seed, generator):
    """A new generator from ``seed``, or ``generator`` (None: the default one, read later)."""
    if seed is not None and generator is not None:
        raise ValueError(f"{name} takes a seed or a generator, not both")
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(f"generator must be a numpy Generator, not {type(generator).__name__}"
                        f" (pass an int as seed=)")
    return rng(seed) if seed is not None else generator


def default_collate(samples: list):
    """Stack a list of samples along a new axis 0, keeping their dtype.

    Samples that are tuples (or lists) give a tuple with one stacked tensor per field; samples
    that are tensors, arrays or numbers give one tensor. The result never requires grad.

        >>> xb, yb = default_collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
        >>> xb.dtype, xb.shape, yb.tolist()
        (dtype('float32'), (2, 2), [1, 0])
    """
    if isinstance(samples[0], (tuple, list)):
        return tuple(_stack(field) for field in zip(*samples))
    return _stack(samples)


def _stack(values) -> Tensor:
    if isinstance(values[0], (dict, str, bytes)):
        raise TypeError(f"default_collate stacks numbers, arrays and tensors (or tuples of "
                        f"them), not {type(values[0]).__name__}; pass a collate_fn")
    arrays = [np.asarray(v.data if isinstance(v, Node) else v) for v in values]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:  # numpy's message would not say that a collate_fn is the way out
        raise ValueError(f"default_collate: samples of different shapes {sorted(shapes)} "
                         f"cannot be stacked; pass a collate_fn")
    return Tensor(np.stack(arrays))


class DataLoader:
    """Mini-batches of a dataset, every sample once per epoch (``torch.utils.data.DataLoader``).

    ``shuffle=True`` draws a fresh order at the start of each epoch (each ``iter(loader)``)
    from ``np.random.default_rng(seed)`` if ``seed`` is given (the loader keeps it, so two
    loaders with one seed give the same epochs), else from ``generator``, else from the
    library's default generator, which ``autograd_core.manual_seed`` resets.
    ``collate_fn(list_of_samples)`` replaces :func:`default_collate`.

        >>> loader = DataLoader(TensorDataset(np.arange(5)), batch_size=2, shuffle=True, seed=0)
        >>> epoch = [xb.tolist() for (xb,) in loader]
        >>> sorted(sum(epoch, [])), [len(batch) for batch in epoch]
        ([0, 1, 2, 3, 4], [2, 2, 1])
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, *, seed=None, generator=None, collate_fn=None):
        if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.generator = _generator("DataLoader", seed, generator)
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self):
        n = len(self.dataset)
        # rng(None) is looked up now, not in __init__, so that a later manual_seed counts
        order = rng(self.generator).permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        return (self._batch(order[start:start + self.batch_size])
                for start in range(0, stop, self.batch_size))

    def _batch(self, indices: np.ndarray):
        if self.collate_fn is None:
            # One fancy index per tensor instead of a Python loop over the samples, also
            # through Subsets (random_split's) of a TensorDataset
            dataset, rows = self.dataset, indices
            while type(dataset) is Subset:
                dataset, rows = dataset.dataset, np.asarray(dataset.indices)[rows]
            # (exactly TensorDataset: a subclass's own __getitem__, a transform say, must run)
            if type(dataset) is TensorDataset:
                return tuple(Tensor(t.data[rows]) for t in dataset.tensors)
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate_fn or default_collate)(samples)


def make_moons(n_samples=100, *, shuffle: bool = True, noise=None, random_state=None):
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``.

    ``n_samples`` is the total (the outer moon gets ``n // 2``) or a pair (outer, inner).
    Returns ``X`` (n, 2) float64 and ``y`` (n,) int64: 0 for the outer moon, 1 for the inner.
    ``noise`` is the standard deviation of gaussian noise added to ``X``. ``random_state``: an
    int seed, a numpy Generator, or None for the library's default generator.

        >>> X, y = make_moons(4, shuffle=False)
        >>> X.round(2).tolist(), y.tolist()
        ([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]], [0, 0, 1, 1])
    """
    if isinstance(n_samples, numbers.Integral):
        n_outer, n_inner = n_samples // 2, n_samples - n_samples // 2
    else:
        try:
            n_outer, n_inner = n_samples
        except (TypeError, ValueError):
            raise ValueError(f"n_samples must be an int or a pair (outer, inner), "
                             f"got {n_samples!r}") from None
    generator = rng(random_state)
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    X = np.concatenate([np.stack([np.cos(t_outer), np.sin(t_outer)], axis=1),
                        np.stack([1 - np.cos(t_inner), 1 - np.sin(t_inner) - 0.5], axis=1)])
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    if shuffle:
        order = generator.permutation(len(y))
        X, y = X[order], y[order]
    if noise is not None:
        X += generator.normal(scale=noise, size=X.shape)
    return X, y


def make_regression(n_samples: int = 100, n_features: int = 1, *, n_informative=None,
                    bias: float = 0.0, noise: float = 0.0, coef: bool = False, random_state=None):
    """A linear regression problem, as ``sklearn.datasets.make_regression`` (one target).

    ``X`` is standard normal (n_samples, n_features); the true weights ``w`` are
    100·uniform[0, 1) on the first ``n_informative`` features (all of them if None) and zero
    on the rest; ``y = X @ w + bias + noise·N(0, 1)``, 1-d. Returns ``(X, y)``, or
    ``(X, y, w)`` if ``coef``.

        >>> X, y, w = make_regression(5, 3, n_informative=2, bias=1.0, coef=True, random_state=0)
        >>> X.shape, y.shape, bool(w[2] == 0), bool(np.allclose(X @ w + 1.0, y))
        ((5, 3), (5,), True, True)
    """
    n_informative = n_features if n_informative is None else n_informative
    if not 0 <= n_informative <= n_features:
        raise ValueError(f"n_informative must be between 0 and n_features={n_features}, "
                         f"got {n_informative}")
    generator = rng(random_state)
    X = generator.standard_normal((n_samples, n_features))
    w = np.zeros(n_features)
    w[:n_informative] = 100 * generator.uniform(size=n_informative)
    y = X @ w + bias
    if noise > 0:
        y += generator.normal(scale=noise, size=y.shape)
    return (X, y, w) if coef else (X, y)
