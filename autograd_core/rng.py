"""One seedable source of randomness: ``manual_seed`` makes a whole run repeatable.

Everything random in the library (``randn``, ``nn.init``, ``Dropout``, shuffling
``DataLoader``) takes an optional ``generator``: a numpy ``Generator``, or an int seed. Given
none, it draws from the library's default generator, which ``manual_seed`` resets, as
``torch.manual_seed`` does.

    >>> from autograd_core import manual_seed, randn
    >>> _ = manual_seed(0); a = randn(3)
    >>> _ = manual_seed(0); b = randn(3)
    >>> bool((a.data == b.data).all())
    True
"""
import numpy as np

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator; return it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def rng(generator=None) -> np.random.Generator:
    """``generator`` as a numpy Generator: None is the default one, an int seeds a new one."""
    if generator is None:
        return _default
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(generator)
    raise TypeError(f"generator must be a numpy Generator or an int seed, "
                    f"not {type(generator).__name__}")
