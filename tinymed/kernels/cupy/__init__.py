"""CuPy backend: custom CUDA kernels only where the reference cannot run well on a GPU.

Every kernel not defined here is taken from :mod:`tinymed.kernels.reference`, whose NumPy
code is written against the array module of its inputs and so runs unchanged on CuPy arrays
(CuPy sends the matrix products to cuBLAS).  Importing this module imports CuPy.
"""

from .pool import max_pool2d_backward, max_pool2d_forward

__all__ = [
    "max_pool2d_backward", "max_pool2d_forward",
]
