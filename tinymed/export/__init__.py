"""Export of trained models for deployment: :func:`tinymed.export.onnx.to_onnx` (ONNX)."""

from .onnx import CONVERTERS, to_onnx

__all__ = ["to_onnx", "CONVERTERS"]
