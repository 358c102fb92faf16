"""Reference kernels: NumPy code a student reads beside the formula it implements."""

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
from .conv import col2im, conv2d_backward, conv2d_forward, conv2d_output_size, im2col
from .implicit import als_conjugate_gradient_rows, als_least_squares_rows, bpr_sgd_epoch
from .linear import linear_backward, linear_forward
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
from .norm import embedding_backward, embedding_forward, layer_norm_backward, layer_norm_forward
from .pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    pool_output_size,
)
from .quantized import int8_conv2d_forward, int8_linear_forward, quantize_per_tensor
from .recsys import baseline_sgd_epochs, bpmf_sample_rows, row_similarities, svd_sgd_epochs
from .recsys_averages import co_cluster_averages, co_clustering_epochs, slope_one_deviations
from .recsys_factors import nmf_epochs, svdpp_sgd_epochs
from .rnn import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_tanh_backward,
    rnn_tanh_forward,
)
from .text import bpe_count_pairs, bpe_encode_chunks, bpe_merge_pair, bpe_train_merges

__all__ = [
    "gelu_backward", "gelu_forward", "log_softmax_backward", "log_softmax_forward", "relu_backward", "relu_forward",
    "sigmoid_backward", "sigmoid_forward", "softmax_backward", "softmax_forward", "tanh_backward",
    "tanh_forward", "adam_update", "col2im", "conv2d_backward", "conv2d_forward", "conv2d_output_size", "im2col",
    "linear_backward", "linear_forward", "binary_cross_entropy_backward",
    "binary_cross_entropy_forward", "binary_cross_entropy_with_logits_backward",
    "binary_cross_entropy_with_logits_forward", "cross_entropy_backward", "cross_entropy_forward",
    "mse_loss_backward", "mse_loss_forward", "avg_pool2d_backward", "avg_pool2d_forward",
    "max_pool2d_backward", "max_pool2d_forward", "pool_output_size", "gru_backward", "gru_forward",
    "lstm_backward", "lstm_forward", "rnn_tanh_backward", "rnn_tanh_forward",
    "scaled_dot_product_attention_backward", "scaled_dot_product_attention_forward",
    "embedding_backward", "embedding_forward", "layer_norm_backward", "layer_norm_forward",
    "baseline_sgd_epochs", "bpmf_sample_rows", "row_similarities", "svd_sgd_epochs",
    "co_cluster_averages", "co_clustering_epochs", "slope_one_deviations", "nmf_epochs", "svdpp_sgd_epochs",
    "als_conjugate_gradient_rows", "als_least_squares_rows", "bpr_sgd_epoch",
    "bpe_count_pairs", "bpe_encode_chunks", "bpe_merge_pair", "bpe_train_merges",
    "int8_conv2d_forward", "int8_linear_forward", "quantize_per_tensor",
]
