"""autograd-core: a reverse-mode automatic differentiation engine small enough to read.

    >>> from autograd_core import Value
    >>> x = Value(2.0)
    >>> y = x * x + x.sin()
    >>> y.backward()
    >>> round(x.grad, 6)  # 2x + cos(x)
    3.583853
"""
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .graph import Node, Tape, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import Op
from .rng import manual_seed
from .tensor import Tensor, arange, one_hot, ones, randn, zeros
from .value import Value, maximum, minimum

__all__ = ["Node", "Value", "Tensor", "Tape", "Op", "grad", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "maximum", "minimum", "zeros", "ones", "randn",
           "arange", "one_hot", "manual_seed"]
__version__ = "0.1.0"
