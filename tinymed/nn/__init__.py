"""Neural-network building blocks; ``tinymed.nn.functional`` holds the operations."""

from . import functional
