"""The Wisconsin Diagnostic Breast Cancer data (WDBC), shipped with tinymed as ``wdbc.csv``.

Real data, small enough to bundle: 569 fine-needle aspirates of breast masses, 30 features
of the cell nuclei, 212 malignant and 357 benign.  W. H. Wolberg, W. N. Street and
O. L. Mangasarian (1995), UCI Machine Learning Repository, https://doi.org/10.24432/C5DW2B,
licence CC BY 4.0.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .dataset import Dataset, describe

CSV_PATH = Path(__file__).with_name("wdbc.csv")
CLASS_NAMES = ("benign", "malignant")
_LABELS = {"B": 0, "M": 1}


def load_breast_cancer() -> Dataset:
    """Load WDBC: ``X`` float64 (569, 30), ``y`` int64 (569,) with **1 = malignant**, 0 = benign.

    The label follows the UCI file (diagnosis 'M' -> 1), so "positive" means the disease,
    as in the pneumonia examples.  Note that scikit-learn's ``load_breast_cancer`` uses the
    opposite coding (0 = malignant, 1 = benign): ``y_sklearn == 1 - y``.

    Rows are in the order of UCI's ``wdbc.data``; the first is patient 842302, malignant,
    radius_mean 17.99, texture_mean 10.38.  ``feature_names`` are ``radius_mean`` ...
    ``fractal_dimension_worst`` (ten measurements x mean / se / worst).
    """
    with open(CSV_PATH, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    reader = csv.reader(lines)
    header = next(reader)
    rows = list(reader)
    y = np.array([_LABELS[row[0]] for row in rows], dtype=np.int64)
    X = np.array([row[1:] for row in rows], dtype=np.float64)
    feature_names = header[1:]
    description = describe(
        "Breast Cancer Wisconsin (Diagnostic), WDBC",
        "W. H. Wolberg, W. N. Street, O. L. Mangasarian (1995), UCI Machine Learning Repository, "
        "https://doi.org/10.24432/C5DW2B",
        "CC BY 4.0",
        X, y, CLASS_NAMES,
        notes="features: mean, standard error (se) and worst of radius, texture, perimeter, area,\n"
              "smoothness, compactness, concavity, concave points, symmetry, fractal dimension.\n"
              "label 1 = malignant (UCI 'M'); scikit-learn codes malignant as 0.",
    )
    return Dataset(X, y, description, feature_names=feature_names, class_names=CLASS_NAMES)
