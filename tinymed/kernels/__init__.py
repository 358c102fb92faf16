"""Stateless forward/backward kernels on raw arrays.

``reference/`` is the readable definition (NumPy, written against the array module of its
inputs so it also runs under CuPy); ``numba/`` holds JIT-compiled CPU versions with the same
signatures; ``cupy/`` only the kernels that need custom CUDA code.  Use
:func:`tinymed.backend.kernel` to get the active backend's version of a kernel.
"""
