"""Tests of nn's Module base, Parameter, the containers and the layers.

Layers are checked against numpy formulas, against central finite differences (gradcheck),
and, where torch is installed, against PyTorch's own layers given the same weights.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_core import Tensor, Value, manual_seed
from autograd_core.testing import gradcheck
from nn.parameter import ParameterArray


def array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----- discovery of parameters and sub-modules -----
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter([2.0])
        self.layers = [nn.Linear(2, 3, generator=0), nn.ReLU(), nn.Linear(3, 2, generator=1)]
        self.heads = {"a": nn.Linear(2, 1, generator=2), "b": nn.Linear(2, 1, generator=3)}
        self.not_a_parameter = Tensor([1.0, 2.0])  # plain tensors are neither params nor buffers
        self.width = 3

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](x) * self.scale + self.heads["b"](x)


def test_parameters_are_found_in_attributes_lists_and_dicts_with_dotted_names():
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                     "layers.2.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight",
                     "heads.b.bias"]
    assert [name for name, _ in Block().named_children()] == [
        "layers.0", "layers.1", "layers.2", "heads.a", "heads.b"]


def test_modules_are_listed_depth_first_and_shared_ones_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Sequential(shared, nn.Tanh()))
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "0", "1", "1.1"]
    assert len(list(model.parameters())) == 2
    assert model.num_parameters() == 6


def test_a_module_that_refers_to_its_parent_does_not_hang():
    parent = nn.Sequential(nn.Linear(1, 1))
    parent[0].owner = parent  # a cycle through attributes
    assert len(list(parent.modules())) == 2
    assert len(list(parent.parameters())) == 2
    assert list(parent.state_dict()) == ["0.weight", "0.bias"]


def test_modules_without_super_init_still_work():
    class Bare(nn.Module):
        def __init__(self):  # no super().__init__(): PyTorch would fail here, we need not
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            return self.layer(x)

    bare = Bare()
    assert bare.training and len(list(bare.parameters())) == 2
    assert bare.eval().training is False


def test_apply_visits_children_before_their_parent():
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU(), nn.Tanh()))
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]


def test_train_and_eval_reach_every_module():
    model = nn.Sequential(nn.Dropout(), nn.Sequential(nn.BatchNorm1d(2)))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_or_zeroes():
    model = nn.Linear(2, 1)
    model(Tensor([[1.0, 2.0]])).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(np.array_equal(p.grad, np.zeros_like(p.data)) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_false_freezes_parameters():
    model = nn.Linear(2, 1)
    model.requires_grad_(False)
    out = model(Tensor([[1.0, 2.0]]))
    assert not out.requires_grad
    assert model.num_parameters(trainable_only=True) == 0 and model.num_parameters() == 3


def test_nested_repr_is_pytorchs():
    model = nn.Sequential(nn.Linear(10, 40), nn.ReLU(), nn.Sequential(nn.Dropout(0.1), nn.Tanh()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=10, out_features=40, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.1, inplace=False)\n"
        "    (1): Tanh()\n"
        "  )\n"
        ")")


def test_repr_and_parameter_count_equal_pytorchs():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(10, 40), nn.ReLU(), nn.Linear(40, 5), nn.LayerNorm(5),
                         nn.BatchNorm1d(5), nn.LeakyReLU(0.2), nn.Flatten(), nn.Identity())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(10, 40), torch.nn.ReLU(), torch.nn.Linear(40, 5), torch.nn.LayerNorm(5),
        torch.nn.BatchNorm1d(5), torch.nn.LeakyReLU(0.2), torch.nn.Flatten(), torch.nn.Identity())
    assert repr(ours) == repr(theirs)
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    assert list(ours.state_dict()) == list(theirs.state_dict())


# ----- state_dict and load_state_dict -----
def test_state_dict_round_trip_copies_arrays():
    source, target = nn.MLP(3, [4], 2, generator=0), nn.MLP(3, [4], 2, generator=1)
    state = source.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    target.load_state_dict(state)
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        assert np.array_equal(a.data, b.data) and a.data is not b.data, name
    state["0.weight"][...] = 99.0  # the state dict is a copy: the model does not change
    assert not np.any(source[0].weight.data == 99.0)


def _snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("change, error, words", [
    (lambda sd: sd.pop("0.bias"), KeyError, ["missing", "0.bias"]),
    (lambda sd: sd.update({"0.extra": np.zeros(1)}), KeyError, ["unexpected", "0.extra"]),
    (lambda sd: sd.update({"2.weight": np.zeros((3, 3))}), ValueError,
     ["2.weight", "(3, 3)", "(2, 4)"]),
])
def test_load_state_dict_errors_name_the_keys_and_change_nothing(change, error, words):
    model = nn.MLP(3, [4], 2, generator=0)
    state = nn.MLP(3, [4], 2, generator=1).state_dict()
    change(state)
    before = _snapshot(model)
    with pytest.raises(error) as info:
        model.load_state_dict(state)
    assert all(word in str(info.value) for word in words)
    after = _snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_non_strict_load_reports_keys_but_still_refuses_wrong_shapes():
    model = nn.Linear(2, 3)
    result = model.load_state_dict({"weight": np.ones((3, 2)), "other": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.array_equal(model.weight.data, np.ones((3, 2)))
    with pytest.raises(ValueError, match="weight"):
        model.load_state_dict({"weight": np.ones((2, 3))}, strict=False)


def test_load_keeps_parameter_objects_and_dtype():
    model = nn.Linear(2, 3, dtype=np.float32)
    weight = model.weight
    model.load_state_dict({"weight": np.ones((3, 2)), "bias": Tensor([1.0, 2.0, 3.0])})
    assert model.weight is weight and weight.dtype == np.float32
    assert type(weight.data) is ParameterArray


def test_buffers_are_saved_and_loaded():
    bn = nn.BatchNorm1d(3)
    bn(Tensor(array(8, 3)))
    state = bn.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    fresh = nn.BatchNorm1d(3)
    fresh.load_state_dict(state)
    assert np.array_equal(fresh.running_mean.data, bn.running_mean.data)
    assert int(fresh.num_batches_tracked.data) == 1


def test_batchnorm_loads_a_state_dict_without_num_batches_tracked():
    # PyTorch accepts it, even strictly (state dicts from before the counter), keeping the count.
    trained = nn.BatchNorm1d(3)
    trained(Tensor(array(8, 3)))
    state = trained.state_dict()
    del state["num_batches_tracked"]
    bn = nn.BatchNorm1d(3)
    for _ in range(2):
        bn(Tensor(array(8, 3, seed=1)))
    assert bn.load_state_dict(state) == ([], [])
    assert int(bn.num_batches_tracked.data) == 2
    np.testing.assert_array_equal(bn.running_mean.data, trained.running_mean.data)
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    nested = {k: v for k, v in model.state_dict().items() if k != "1.num_batches_tracked"}
    model.load_state_dict(nested)
    assert int(model[1].num_batches_tracked.data) == 0
    del state["running_mean"]  # the other buffers are still required
    with pytest.raises(KeyError, match="running_mean"):
        bn.load_state_dict(state)


def test_batchnorm_without_num_batches_tracked_loads_as_in_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3, dtype=torch.float64)
    ours(Tensor(array(8, 3)))
    theirs(torch.tensor(array(8, 3)))
    state = {k: v for k, v in nn.BatchNorm1d(3).state_dict().items()
             if k != "num_batches_tracked"}
    result = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    assert tuple(result) == tuple(ours.load_state_dict(state)) == ([], [])
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 1


def test_shared_submodule_is_saved_under_each_name():
    shared = nn.Linear(2, 2, generator=0)
    model = nn.Sequential(shared, nn.Sequential(shared, nn.Tanh()))
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.0.weight", "1.0.bias"]
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    copy = nn.Sequential(shared_copy := nn.Linear(2, 2, generator=1),
                         nn.Sequential(shared_copy, nn.Tanh()))
    assert copy.load_state_dict(state) == ([], [])  # strict: both names are expected
    np.testing.assert_array_equal(shared_copy.weight.data, shared.weight.data)
    with pytest.raises(KeyError, match="1.0.weight"):
        copy.load_state_dict({k: v for k, v in state.items() if not k.startswith("1.")})


def test_shared_submodule_state_dict_keys_equal_torchs():
    torch = pytest.importorskip("torch")
    shared, torch_shared = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ours = nn.Sequential(shared, nn.ReLU(), nn.Sequential(shared, nn.BatchNorm1d(2)))
    theirs = torch.nn.Sequential(torch_shared, torch.nn.ReLU(),
                                 torch.nn.Sequential(torch_shared, torch.nn.BatchNorm1d(2)))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ([name for name, _ in ours.named_parameters()]
            == [name for name, _ in theirs.named_parameters()])


# ----- Sequential -----
def test_sequential_slice_keeps_the_original_names():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    middle = model[1:4]
    assert list(middle.state_dict()) == ["2.weight", "2.bias"]
    assert len(middle) == 3 and list(middle) == [model[1], model[2], model[3]]
    assert middle[0] is model[1] and middle[-1] is model[3]  # integers count positions
    assert [name for name, _ in middle.named_children()] == ["1", "2", "3"]
    assert list(model[::2].state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias",
                                             "4.weight", "4.bias"]
    x = Tensor(array(4, 3))
    np.testing.assert_array_equal(middle(x).data, model[3](model[2](model[1](x))).data)
    middle.load_state_dict(model.state_dict(), strict=False)  # the keys line up with the whole


def test_sequential_slice_equals_torchs():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3),
                                 torch.nn.Tanh(), torch.nn.Linear(3, 1))
    for index in (slice(1, 4), slice(None, None, 2), slice(-2, None)):
        assert repr(ours[index]) == repr(theirs[index])
        assert list(ours[index].state_dict()) == list(theirs[index].state_dict())


# ----- Parameter -----
def test_parameter_data_has_pytorchs_in_place_initialisers():
    p = nn.Parameter(np.arange(3.0))
    assert p.requires_grad
    assert p.data.fill_(2.0) is p.data and p.data.tolist() == [2.0, 2.0, 2.0]
    p.data.copy_(Tensor([1.0, 2.0, 3.0]))
    assert p.data.tolist() == [1.0, 2.0, 3.0]
    assert p.data.zero_().tolist() == [0.0, 0.0, 0.0]
    assert type(p.data + 1) is np.ndarray and type(p.data.sum()) is np.float64
    assert repr(p.data) == "array([0., 0., 0.])"


def test_parameter_keeps_its_array_type_through_optimizer_steps():
    p = nn.Parameter([1.0, 2.0])
    optimizer = nn.optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        (p * p).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
    assert type(p.data) is ParameterArray and p.grad is None
    p.data -= 1.0  # micrograd's in-place update style works on the array as well
    assert type(p.data) is ParameterArray


def test_parameter_from_integers_learns_floats():
    assert nn.Parameter([1, 2]).dtype == np.float64


def test_a_saved_parameter_cannot_be_filled_in_place_before_backward():
    p = nn.Parameter([1.0, 2.0])
    loss = (p * p).sum()
    with pytest.raises(ValueError, match="read-only"):
        p.data.fill_(0.0)
    loss.backward()
    assert p.grad.tolist() == [2.0, 4.0]


# ----- Linear -----
def test_linear_forward_and_pytorch_default_initialisation():
    layer = nn.Linear(50, 40, generator=0)
    x = array(7, 50)
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(Tensor(x)).data, expected, rtol=1e-12)
    bound = 1 / math.sqrt(50)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    # uniform(-b, b) has variance b²/3: 2000 samples land within 10% of it
    assert abs(layer.weight.data.var() / (bound ** 2 / 3) - 1) < 0.1


def test_linear_is_reproducible_with_a_seed_and_with_manual_seed():
    assert np.array_equal(nn.Linear(3, 2, generator=5).weight.data,
                          nn.Linear(3, 2, generator=5).weight.data)
    manual_seed(1)
    first = nn.Linear(3, 2).weight.data.copy()
    manual_seed(1)
    assert np.array_equal(first, nn.Linear(3, 2).weight.data)


def test_linear_shape_error_names_layer_and_both_shapes():
    with pytest.raises(ValueError) as info:
        nn.Linear(4, 2)(Tensor(np.ones((5, 3))))
    message = str(info.value)
    assert "Linear(in_features=4, out_features=2" in message and "(5, 3)" in message
    assert "(*, 4)" in message


def test_sequential_notes_which_layer_failed():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError) as info:
        model(Tensor(np.ones((1, 2))))
    assert "raised in layer (2) of Sequential" in info.value.__notes__


def test_linear_without_bias_and_bad_sizes():
    assert nn.Linear(3, 2, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 2, bias=False).named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 2)


def test_linear_matches_torch_given_the_same_weights():
    torch = pytest.importorskip("torch")
    ours = nn.Linear(5, 3, generator=0)
    theirs = torch.nn.Linear(5, 3).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = array(4, 5)
    xt = torch.tensor(x, requires_grad=True)
    theirs(xt).tanh().sum().backward()
    xo = Tensor(x, requires_grad=True)
    ours(xo).tanh().sum().backward()
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)


# ----- activations -----
ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softplus(beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.GELU(), lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) *
                                                       (x + 0.044715 * x ** 3)))),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(axis=1, keepdims=True))),
    (nn.Identity(), lambda x: x),
]


@pytest.mark.parametrize("layer, reference", ACTIVATIONS, ids=lambda a: repr(a)[:20])
def test_activation_forward_and_gradient(layer, reference):
    x = array(4, 3) * 2 + 0.05  # away from relu's kink at 0
    np.testing.assert_allclose(layer(Tensor(x)).data, reference(x), rtol=1e-12, atol=1e-15)
    assert gradcheck(lambda t: layer(t), Tensor(x, requires_grad=True))


@pytest.mark.parametrize("ours, theirs", [
    (nn.GELU(), "GELU()"), (nn.GELU("tanh"), "GELU(approximate='tanh')"),
    (nn.Softplus(beta=2.0), "Softplus(beta=2.0)"), (nn.LeakyReLU(0.3), "LeakyReLU(0.3)"),
    (nn.Softplus(threshold=1.0), "Softplus(threshold=1.0)"),
    (nn.Softplus(beta=2.0, threshold=1.5), "Softplus(beta=2.0, threshold=1.5)"),
    (nn.Softplus(beta=0.5, threshold=-1.0), "Softplus(beta=0.5, threshold=-1.0)")])
def test_activations_match_torch(ours, theirs):
    torch = pytest.importorskip("torch")
    module = eval("torch.nn." + theirs)
    x = array(5, 4) * 3
    xt = torch.tensor(x, requires_grad=True)
    module(xt).sum().backward()
    xo = Tensor(x, requires_grad=True)
    ours(xo).sum().backward()
    np.testing.assert_allclose(ours(Tensor(x)).data, module(torch.tensor(x)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_softplus_is_the_input_above_the_threshold():
    # PyTorch's rule, for beta = 1 too: x itself where beta·x > threshold, with gradient 1.
    x = Tensor([0.0, 2.0, 3.0, 10.0], requires_grad=True)
    y = nn.Softplus(threshold=2.0)(x)
    y.sum().backward()
    assert y.data.tolist()[2:] == [3.0, 10.0]
    np.testing.assert_allclose(y.data[:2], [math.log(2.0), math.log1p(math.exp(2.0))],
                               rtol=1e-15)
    assert x.grad.tolist()[2:] == [1.0, 1.0] and x.grad[0] == 0.5
    x = Tensor([2.0, 3.0], requires_grad=True, dtype=np.float32)
    y = nn.Softplus(beta=2.0, threshold=5.0)(x)  # 2·2 = 4 ≤ 5: softplus; 2·3 = 6 > 5: x
    y.sum().backward()
    assert y.dtype == np.float32 and y.data[1] == 3.0 and x.grad[1] == 1.0
    assert y.data[0] == pytest.approx(math.log1p(math.exp(4.0)) / 2, rel=1e-6)


def test_softplus_threshold_on_values():
    above, below = Value(3.0), Value(1.0)
    layer = nn.Softplus(beta=2.0, threshold=5.0)
    out_above, out_below = layer(above), layer(below)
    (out_above + out_below).backward()
    assert (out_above.data, above.grad) == (3.0, 1.0)
    assert out_below.data == pytest.approx(math.log1p(math.exp(2.0)) / 2, rel=1e-15)
    assert below.grad == pytest.approx(1 / (1 + math.exp(-2.0)), rel=1e-15)


def test_softmax_dim_defaults_to_the_last_axis():
    # Not PyTorch's deprecated implicit dim, which is 0 for 3-d input: see Softmax's docstring.
    x = array(2, 3, 4)
    expected = np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(nn.Softmax()(Tensor(x)).data, expected, rtol=1e-12)
    np.testing.assert_allclose(nn.LogSoftmax()(Tensor(x)).data, np.log(expected), rtol=1e-12)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ----- MLP, Flatten -----
def test_mlp_layout_and_activation_names():
    mlp = nn.MLP(2, [16, 16], 1)
    assert [type(m).__name__ for m in mlp] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert mlp.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert isinstance(nn.MLP(2, 8, 1, activation="gelu")[1], nn.GELU)
    assert isinstance(nn.MLP(2, [8], 1, activation=lambda: nn.LeakyReLU(0.1))[1], nn.LeakyReLU)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP(2, [8], 1, activation="swish")


def test_flatten():
    x = Tensor(array(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0)(x).shape == (24,)
    with pytest.raises(ValueError, match="Flatten"):
        nn.Flatten(2)(Tensor(array(3, 4)))


# ----- Dropout -----
def test_dropout_scales_survivors_and_keeps_the_mean():
    x = Tensor(np.ones((200, 100)))
    out = nn.Dropout(0.3, generator=0)(x).data
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    assert abs(out.mean() - 1.0) < 0.02


def test_dropout_is_identity_in_eval_and_reproducible_with_a_seed():
    x = Tensor(array(10, 10))
    assert nn.Dropout(0.5).eval()(x) is x
    a, b = nn.Dropout(0.5, generator=3), nn.Dropout(0.5, generator=3)
    assert np.array_equal(a(x).data, b(x).data)
    assert not np.array_equal(a(x).data, a(x).data)  # a new mask each call
    assert np.array_equal(nn.Dropout(1.0)(x).data, np.zeros((10, 10)))
    assert nn.Dropout(0.0)(x) is x


def test_dropout_gradient_follows_the_mask():
    x = Tensor(np.ones(1000), requires_grad=True)
    out = nn.Dropout(0.5, generator=1)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # each element's factor: 0 or 2


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


# ----- BatchNorm1d -----
def test_batchnorm_training_normalises_and_updates_running_statistics():
    x = array(16, 3) * 4 + 2
    bn = nn.BatchNorm1d(3, momentum=0.1)
    out = bn(Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)


def test_batchnorm_eval_uses_running_statistics():
    bn = nn.BatchNorm1d(2)
    bn.load_state_dict({**bn.state_dict(), "running_mean": np.array([1.0, -1.0]),
                        "running_var": np.array([4.0, 9.0])})
    bn.eval()
    out = bn(Tensor([[3.0, 2.0]])).data  # one sample is fine in eval
    np.testing.assert_allclose(out, [[2 / math.sqrt(4 + 1e-5), 3 / math.sqrt(9 + 1e-5)]])


def test_batchnorm_gradient_equals_the_lectures_closed_form():
    # seed 003: dx = γ/(N·σ) · (N·dy − Σdy − x̂·Σ(dy·x̂)), σ = sqrt(var + eps)
    x, dy = array(6, 3, seed=1), array(6, 3, seed=2)
    bn = nn.BatchNorm1d(3)
    bn.weight.data = np.array([0.5, 2.0, -1.0])
    xt = Tensor(x, requires_grad=True)
    (bn(xt) * Tensor(dy)).sum().backward()
    n, sigma = x.shape[0], np.sqrt(x.var(axis=0) + 1e-5)
    x_hat = (x - x.mean(axis=0)) / sigma
    expected = bn.weight.data / (n * sigma) * (
        n * dy - dy.sum(axis=0) - x_hat * (dy * x_hat).sum(axis=0))
    np.testing.assert_allclose(xt.grad, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.weight.grad, (dy * x_hat).sum(axis=0), rtol=1e-10)
    np.testing.assert_allclose(bn.bias.grad, dy.sum(axis=0), rtol=1e-12)


def test_batchnorm_three_d_input_and_gradcheck():
    bn = nn.BatchNorm1d(2)
    assert gradcheck(lambda t: bn(t), Tensor(array(3, 2, 4), requires_grad=True))
    assert bn(Tensor(array(3, 2, 4))).shape == (3, 2, 4)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(2)(Tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3.*\(4, 2\)"):
        nn.BatchNorm1d(3)(Tensor(np.ones((4, 2))))


def test_batchnorm_momentum_none_averages_all_batches():
    bn = nn.BatchNorm1d(1, momentum=None)
    means = []
    for seed in range(3):
        x = array(5, 1, seed=seed) + seed
        means.append(x.mean())
        bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, [np.mean(means)], rtol=1e-12)


def test_batchnorm_matches_torch_over_several_steps():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4).double()
    for seed in range(3):
        x = array(8, 4, seed=seed) * 3 + 1
        xt = torch.tensor(x, requires_grad=True)
        (theirs(xt) ** 3).sum().backward()
        xo = Tensor(x, requires_grad=True)
        (ours(xo) ** 3).sum().backward()
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key)
    ours.eval(), theirs.eval()
    x = array(3, 4, seed=9)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)


# ----- LayerNorm -----
def test_layernorm_normalises_each_sample_and_checks_shapes():
    ln = nn.LayerNorm(5)
    out = ln(Tensor(array(4, 5) * 3 + 7)).data
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    assert gradcheck(lambda t: nn.LayerNorm((2, 3))(t), Tensor(array(4, 2, 3), requires_grad=True))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(5,\).*\(4, 3\)"):
        ln(Tensor(np.ones((4, 3))))


def test_layernorm_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.LayerNorm(6), torch.nn.LayerNorm(6).double()
    ours.weight.data = array(6, seed=3)
    theirs.weight.data = torch.tensor(ours.weight.data)
    x = array(3, 6)
    xt = torch.tensor(x, requires_grad=True)
    (theirs(xt) ** 2).sum().backward()
    xo = Tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)


# ----- the scalar (micrograd) MLP -----
def test_scalar_mlp_has_micrographs_layout_and_parameter_names():
    model = nn.scalar.MLP(2, [16, 16], 1, generator=0)
    assert model.num_parameters() == 337  # micrograd's MLP(2, [16, 16, 1])
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                         "layers.0.neurons.0.b"]
    assert all(isinstance(p, Value) for p in model.parameters())


def test_scalar_mlp_state_dict_and_zero_grad():
    model, other = nn.scalar.MLP(2, [3], 1, generator=0), nn.scalar.MLP(2, [3], 1, generator=1)
    out = model([1.0, 2.0])
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())
    other.load_state_dict(model.state_dict())
    assert other([1.0, 2.0]).data == out.data
    with pytest.raises(ValueError, match="got 3 inputs, expected 2"):
        model([1.0, 2.0, 3.0])


@given(st.lists(st.floats(-3, 3), min_size=2, max_size=2))
def test_scalar_mlp_equals_micrograd_with_the_same_weights(x):
    micrograd_nn = pytest.importorskip("micrograd.nn")
    ours = nn.scalar.MLP(2, [4, 4], 1, generator=0)
    theirs = micrograd_nn.MLP(2, [4, 4, 1])
    for mine, their in zip(ours.parameters(), theirs.parameters()):
        their.data = mine.data
    mine, their = ours(x), theirs(x)
    mine.backward()
    their.backward()
    assert mine.data == pytest.approx(their.data, rel=1e-12, abs=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-12)


# ----- loss modules, and saving whole models -----
@pytest.mark.parametrize("module, function, args", [
    (nn.MSELoss(reduction="sum"), nn.functional.mse_loss, {"reduction": "sum"}),
    (nn.L1Loss(), nn.functional.l1_loss, {}),
    (nn.HingeLoss(margin=0.5), nn.functional.hinge_loss, {"margin": 0.5}),
    (nn.BCEWithLogitsLoss(pos_weight=2.0), nn.functional.binary_cross_entropy_with_logits,
     {"pos_weight": 2.0}),
])
def test_loss_modules_call_their_functions(module, function, args):
    x, y = Tensor(array(4, 1)), np.sign(array(4, 1, seed=1))
    y = (y + 1) / 2 if "logits" in function.__name__ else y
    assert module(x, y).item() == function(x, y, **args).item()


def test_classification_loss_modules_and_reduction_errors():
    logits, labels = Tensor(array(5, 3)), np.array([0, 2, 1, 1, 0])
    weight = np.array([1.0, 2.0, 0.5])
    assert nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)(logits, labels).item() == \
        nn.functional.cross_entropy(logits, labels, weight, label_smoothing=0.1).item()
    log_probs = logits.log_softmax(axis=1)
    assert nn.NLLLoss(ignore_index=2)(log_probs, labels).item() == \
        nn.functional.nll_loss(log_probs, labels, ignore_index=2).item()
    probabilities = logits.sigmoid()
    targets = (array(5, 3, seed=4) > 0).astype(float)
    assert nn.BCELoss()(probabilities, targets).item() == \
        nn.functional.binary_cross_entropy(probabilities, targets).item()
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    with pytest.raises(ValueError, match="'average'"):
        nn.MSELoss(reduction="average")


def test_save_and_load_a_whole_model_bit_for_bit(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float32), nn.BatchNorm1d(4), nn.ReLU())
    model(Tensor(array(6, 3).astype(np.float32)))  # moves the running statistics
    nn.save(model, tmp_path / "model.npz")
    copy = nn.Sequential(nn.Linear(3, 4, dtype=np.float32), nn.BatchNorm1d(4), nn.ReLU())
    copy.load_state_dict(nn.load(tmp_path / "model.npz"))
    for (key, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items()):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), key


def test_save_and_load_the_scalar_mlp(tmp_path):
    model, copy = nn.scalar.MLP(2, [3], 1, generator=0), nn.scalar.MLP(2, [3], 1, generator=1)
    nn.save(model, tmp_path / "scalar.npz")
    copy.load_state_dict(nn.load(tmp_path / "scalar.npz"))
    assert [p.data for p in copy.parameters()] == [p.data for p in model.parameters()]
