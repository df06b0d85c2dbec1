"""Neural-network building blocks on autograd_core (modules, layers, losses, optimisers): to come."""
