"""Max pooling as CUDA kernels: one thread per output (forward) or per input pixel (backward).

The reference builds a (N, C, KH*KW, OH, OW) array of windows and a one-hot mask of the
winners; on a GPU that costs KH*KW times the memory traffic of reading the input once.  These
kernels read each input once instead.  The backward kernel *gathers*: each input pixel sums
the upstream gradients of the outputs whose window it won, so no two threads write the same
element and the result is deterministic (no atomics).
"""

import cupy

_SOURCE = r"""
template <typename T>
__global__ void max_pool2d_forward(const T* x, T* y, long long* argmax,
                                   long long planes, int H, int W, int OH, int OW,
                                   int KH, int KW, int SH, int SW, int PH, int PW) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= planes * OH * OW) return;
    int ow = idx % OW, oh = (idx / OW) % OH;
    const T* plane = x + (idx / ((long long)OH * OW)) * H * W;
    T best = -INFINITY;
    int best_tap = 0;
    for (int p = 0; p < KH; ++p) {
        int hi = oh * SH - PH + p;
        if (hi < 0 || hi >= H) continue;
        for (int q = 0; q < KW; ++q) {
            int wi = ow * SW - PW + q;
            if (wi < 0 || wi >= W) continue;
            T v = plane[hi * W + wi];
            // strict '>' keeps the first maximum (as argmax does); a NaN wins and stays
            if (v > best || (isnan(v) && !isnan(best))) { best = v; best_tap = p * KW + q; }
        }
    }
    y[idx] = best;
    argmax[idx] = best_tap;
}

template <typename T>
__global__ void max_pool2d_backward(const T* dy, const long long* argmax, T* dx,
                                    long long planes, int H, int W, int OH, int OW,
                                    int KH, int KW, int SH, int SW, int PH, int PW) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= planes * H * W) return;
    int wi = idx % W, hi = (idx / W) % H;
    long long base = (idx / ((long long)H * W)) * OH * OW;
    // outputs whose window covers row hi: oh*SH - PH <= hi <= oh*SH - PH + KH - 1
    int oh_lo = max(0, (hi + PH - KH + SH) / SH), oh_hi = min(OH - 1, (hi + PH) / SH);
    int ow_lo = max(0, (wi + PW - KW + SW) / SW), ow_hi = min(OW - 1, (wi + PW) / SW);
    T sum = 0;
    for (int oh = oh_lo; oh <= oh_hi; ++oh) {
        for (int ow = ow_lo; ow <= ow_hi; ++ow) {
            int tap = (hi - (oh * SH - PH)) * KW + (wi - (ow * SW - PW));
            long long o = base + (long long)oh * OW + ow;
            if (argmax[o] == tap) sum += dy[o];
        }
    }
    dx[idx] = sum;
}
"""

_NAMES = [f"max_pool2d_{d}<{t}>" for d in ("forward", "backward") for t in ("float", "double")]
_module = None
_THREADS = 256


def _kernel(direction, dtype):
    global _module
    if _module is None:
        _module = cupy.RawModule(code=_SOURCE, options=("--std=c++14",), name_expressions=_NAMES)
    ctype = {cupy.dtype(cupy.float32): "float", cupy.dtype(cupy.float64): "double"}.get(cupy.dtype(dtype))
    if ctype is None:
        raise TypeError(f"max_pool2d (cupy): float32 or float64 expected, got {dtype}")
    return _module.get_function(f"max_pool2d_{direction}<{ctype}>")


def _launch(kernel, count, args):
    kernel(((count + _THREADS - 1) // _THREADS,), (_THREADS,), args)


def max_pool2d_forward(x, kernel_size, stride, padding):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    x = cupy.ascontiguousarray(x)
    y = cupy.empty((n, c, oh, ow), dtype=x.dtype)
    argmax = cupy.empty((n, c, oh, ow), dtype=cupy.int64)
    ints = [cupy.int32(v) for v in (h, w, oh, ow, kh, kw, sh, sw, ph, pw)]
    _launch(_kernel("forward", x.dtype), y.size, (x, y, argmax, cupy.int64(n * c), *ints))
    return y, argmax


def max_pool2d_backward(dy, argmax, x_shape, kernel_size, stride, padding):
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    oh, ow = dy.shape[2], dy.shape[3]
    dx = cupy.empty(x_shape, dtype=dy.dtype)
    ints = [cupy.int32(v) for v in (h, w, oh, ow, kh, kw, sh, sw, ph, pw)]
    _launch(_kernel("backward", dy.dtype), dx.size,
            (cupy.ascontiguousarray(dy), cupy.ascontiguousarray(argmax), dx, cupy.int64(n * c), *ints))
    return dx
