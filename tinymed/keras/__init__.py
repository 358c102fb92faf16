"""The Keras adapter: the articles' Keras code runs with ``tensorflow.keras`` replaced by ``tinymed.keras``."""
