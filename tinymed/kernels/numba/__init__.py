"""Numba JIT kernels: the CPU fast path, with the reference kernels' signatures.

Each public function here prepares contiguous arrays and calls an ``@njit`` loop kernel
(``cache=True``, so compiled code is reused from disk after the first run).  Set
``NUMBA_DISABLE_JIT=1`` to run the very same loops as plain Python and step into them
with a debugger; they give the same numbers, only slower.

Dense matrix products (the linear layer, and the two GEMMs inside a convolution) are left
to NumPy's BLAS, which no hand-written loop beats; Numba does the data movement around
them (im2col, col2im, layout changes), the pooling windows, activations and losses.
"""

from .activations import (
    gelu_backward,
    gelu_forward,
    log_softmax_backward,
    log_softmax_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from .adaptive import adam_update
from .attention import scaled_dot_product_attention_backward, scaled_dot_product_attention_forward
from .conv import conv2d_backward, conv2d_forward
from .implicit import als_conjugate_gradient_rows, als_least_squares_rows, bpr_sgd_epoch
from .losses import (
    binary_cross_entropy_backward,
    binary_cross_entropy_forward,
    binary_cross_entropy_with_logits_backward,
    binary_cross_entropy_with_logits_forward,
    cross_entropy_backward,
    cross_entropy_forward,
    mse_loss_backward,
    mse_loss_forward,
)
from .norm import embedding_backward, layer_norm_backward, layer_norm_forward
from .pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward
from .quantized import int8_conv2d_forward, int8_linear_forward
from .recsys import baseline_sgd_epochs, bpmf_sample_rows, row_similarities, svd_sgd_epochs
from .recsys_averages import co_cluster_averages, co_clustering_epochs, slope_one_deviations
from .recsys_factors import nmf_epochs, svdpp_sgd_epochs
from .rnn import gru_backward, gru_forward, lstm_backward, lstm_forward, rnn_tanh_backward, rnn_tanh_forward
from .text import bpe_count_pairs, bpe_encode_chunks, bpe_merge_pair, bpe_train_merges

__all__ = [
    "gelu_backward", "gelu_forward", "log_softmax_backward", "log_softmax_forward", "relu_backward", "relu_forward",
    "sigmoid_backward", "sigmoid_forward", "softmax_backward", "softmax_forward", "tanh_backward",
    "tanh_forward", "adam_update", "conv2d_backward", "conv2d_forward", "binary_cross_entropy_backward",
    "binary_cross_entropy_forward", "binary_cross_entropy_with_logits_backward",
    "binary_cross_entropy_with_logits_forward", "cross_entropy_backward", "cross_entropy_forward",
    "mse_loss_backward", "mse_loss_forward", "avg_pool2d_backward", "avg_pool2d_forward",
    "max_pool2d_backward", "max_pool2d_forward", "gru_backward", "gru_forward", "lstm_backward",
    "lstm_forward", "rnn_tanh_backward", "rnn_tanh_forward",
    "scaled_dot_product_attention_backward", "scaled_dot_product_attention_forward",
    "embedding_backward", "layer_norm_backward", "layer_norm_forward", "baseline_sgd_epochs",
    "bpmf_sample_rows", "row_similarities", "svd_sgd_epochs",
    "co_cluster_averages", "co_clustering_epochs", "slope_one_deviations", "nmf_epochs", "svdpp_sgd_epochs",
    "als_conjugate_gradient_rows", "als_least_squares_rows", "bpr_sgd_epoch",
    "bpe_count_pairs", "bpe_encode_chunks", "bpe_merge_pair", "bpe_train_merges",
    "int8_conv2d_forward", "int8_linear_forward",
]
