"""Porting PyTorch training code: where each PyTorch name lives here.

``port(source)`` rewrites a script's PyTorch names by the table ``PORTING``, the README's
"Coming from PyTorch" table: the imports, ``torch.utils.data``, ``torch.optim``,
``torch.randn``, ``torch.tensor``, ``torch.manual_seed``, ``torch.save`` and ``torch.load``.
Anything else of ``torch`` it leaves for you, and says so. ``FIG_7_8`` is the lectures'
PyTorch training script (Understanding Deep Learning, fig. 7.8), verbatim; the tests, the notebook on PyTorch-style training and the
benchmarks run it ported.

    >>> print(port("import torch, torch.nn as nn\\nx = torch.randn(100, 10)"))
    import autograd_core, nn, nn.optim
    x = autograd_core.randn(100, 10)
"""

import re

__all__ = ["PORTING", "port", "FIG_7_8"]

# (a pattern of PyTorch's names, ours), applied in this order. An import is a whole line,
# whether it ends the script or in \r\n.
PORTING = [
    (r"^import torch, torch\.nn as nn(?=\r?$)", "import autograd_core, nn, nn.optim"),
    (r"^import torch\.nn as nn(?=\r?$)", "import nn, nn.optim"),
    (r"^import torch(?=\r?$)", "import autograd_core, nn"),
    (r"\btorch\.utils\.data\b", "nn.data"),
    (r"\btorch\.optim\b", "nn.optim"),  # (and torch.optim.lr_scheduler with it)
    (r"\btorch\.randn\(", "autograd_core.randn("),
    (r"\btorch\.tensor\(", "autograd_core.Tensor("),
    (r"\btorch\.manual_seed\(", "autograd_core.manual_seed("),
    (r"\btorch\.save\(", "nn.save("),
    (r"\btorch\.load\(", "nn.load("),
]


def port(source: str) -> str:
    """``source`` with PyTorch's names replaced by this project's; raises ``ValueError`` if
    a use of ``torch`` is left that the table does not cover."""
    for pytorch_name, our_name in PORTING:
        source = re.sub(pytorch_name, our_name, source, flags=re.MULTILINE)
    left = [line.strip() for line in source.splitlines() if "torch" in line]
    if left:
        raise ValueError(f"port: no rule for {left[0]!r}; port that line by hand")
    return source


FIG_7_8 = '''\
import torch, torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader
from torch.optim.lr_scheduler import StepLR

# define input size, hidden layer size, output size
D_i, D_k, D_o = 10, 40, 5
# create model with two hidden layers
model = nn.Sequential(
    nn.Linear(D_i, D_k),
    nn.ReLU(),
    nn.Linear(D_k, D_k),
    nn.ReLU(),
    nn.Linear(D_k, D_o))

# He initialization of weights
def weights_init(layer_in):
    if isinstance(layer_in, nn.Linear):
        nn.init.kaiming_uniform(layer_in.weight)
        layer_in.bias.data.fill_(0.0)
model.apply(weights_init)

# choose least squares loss function
criterion = nn.MSELoss()
# construct SGD optimizer and initialize learning rate and momentum
optimizer = torch.optim.SGD(model.parameters(), lr = 0.1, momentum=0.9)
# object that decreases learning rate by half every 10 epochs
scheduler = StepLR(optimizer, step_size=10, gamma=0.5)

# create 100 random data points and store in data loader class
x = torch.randn(100, D_i)
y = torch.randn(100, D_o)
data_loader = DataLoader(TensorDataset(x,y), batch_size=10, shuffle=True)

# loop over the dataset 100 times
for epoch in range(100):
    epoch_loss = 0.0
    # loop over batches
    for i, data in enumerate(data_loader):
        # retrieve inputs and labels for this batch
        x_batch, y_batch = data
        # zero the parameter gradients
        optimizer.zero_grad()
        # forward pass
        pred = model(x_batch)
        loss = criterion(pred, y_batch)
        # backward pass
        loss.backward()
        # SGD update
        optimizer.step()
        # update statistics
        epoch_loss += loss.item()
    # print error
    print(f'Epoch {epoch:5d}, loss {epoch_loss:.3f}')
    # tell scheduler to consider updating learning rate
    scheduler.step()
'''
