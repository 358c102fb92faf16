"""CuPy backend: custom CUDA kernels only where the reference cannot run well on a GPU.

Every kernel not defined here is taken from :mod:`tinymed.kernels.reference`, whose NumPy
code is written against the array module of its inputs and so runs unchanged on CuPy arrays
(CuPy dispatches the matrix products to cuBLAS).  Importing this module imports CuPy.
"""

import cupy  # noqa: F401  (fail here, with the backend's own error message, if it is missing)
