"""Drawings of computation graphs and training plots for autograd_core: to come."""
