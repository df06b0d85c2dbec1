"""Pictures of computation graphs and of training, for autograd_core and nn.

``draw_dot`` draws the graph behind a ``Value`` or ``Tensor`` (DOT built with the
``graphviz`` package, rendered by a system ``dot`` or the ``graphviz-pure`` wheel);
``animate_backward`` plays the backward pass step by step; the ``plot_*`` functions draw
training curves and the lecture's diagnostics with matplotlib.
"""
from .animate import BackwardAnimation, animate_backward
from .graph import GraphDrawing, draw_dot
from .plots import (layer_statistics, plot_activation_histograms, plot_decision_boundary,
                    plot_history, plot_layer_statistics)
from .render import GraphvizError, GraphvizNotFoundError, find_graphviz

__all__ = ["draw_dot", "GraphDrawing", "animate_backward", "BackwardAnimation", "GraphvizError", "GraphvizNotFoundError",
           "find_graphviz", "plot_history", "plot_layer_statistics", "layer_statistics",
           "plot_activation_histograms", "plot_decision_boundary"]
