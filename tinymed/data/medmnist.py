"""MedMNIST v2 images from the project's ``.npz`` files (read locally; nothing is downloaded).

MedMNIST v2 (Yang et al., *Scientific Data* 10, 41, 2023; https://medmnist.com, licence
CC BY 4.0) is a collection of small, pre-processed biomedical image sets with fixed
train / val / test splits.  Each 2-D set is one file ``<name>.npz`` (``<name>_<size>.npz`` for
the 64, 128 and 224 pixel versions) holding the arrays ``train_images``, ``train_labels``,
``val_images``, ``val_labels``, ``test_images``, ``test_labels``: images ``uint8``
``(N, H, W)`` (grey) or ``(N, H, W, 3)`` (colour), labels ``(N, 1)`` (``(N, 14)`` for the
multi-label ChestMNIST).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from .dataset import Dataset, describe

SPLITS = ("train", "val", "test")
DEFAULT_ROOT = Path("~/.medmnist")
CITATION = ("Yang, J., Shi, R., Wei, D., Liu, Z., Zhao, L., Ke, B., Pfister, H., Ni, B. "
            "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image "
            "classification. Scientific Data 10, 41 (2023)")

_ORGANS = ("bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right",
           "liver", "lung-left", "lung-right", "pancreas", "spleen")
# class names of the 2-D sets, from the MedMNIST project's dataset information
CLASS_NAMES = {
    "pathmnist": ("adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle",
                  "normal colon mucosa", "cancer-associated stroma",
                  "colorectal adenocarcinoma epithelium"),
    "chestmnist": ("atelectasis", "cardiomegaly", "effusion", "infiltration", "mass", "nodule",
                   "pneumonia", "pneumothorax", "consolidation", "edema", "emphysema",
                   "fibrosis", "pleural", "hernia"),
    "dermamnist": ("actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma",
                   "benign keratosis-like lesions", "dermatofibroma", "melanoma",
                   "melanocytic nevi", "vascular lesions"),
    "octmnist": ("choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
    "pneumoniamnist": ("normal", "pneumonia"),
    "retinamnist": ("0", "1", "2", "3", "4"),
    "breastmnist": ("malignant", "normal, benign"),
    "bloodmnist": ("basophil", "eosinophil", "erythroblast", "immature granulocytes", "lymphocyte",
                   "monocyte", "neutrophil", "platelet"),
    "tissuemnist": ("collecting duct, connecting tubule", "distal convoluted tubule",
                    "glomerular endothelial cells", "interstitial endothelial cells", "leukocytes",
                    "podocytes", "proximal tubule segments", "thick ascending limb"),
    "organamnist": _ORGANS,
    "organcmnist": _ORGANS,
    "organsmnist": _ORGANS,
}


def _file_name(name, size):
    return f"{name}.npz" if size == 28 else f"{name}_{size}.npz"


def _missing_message(path, size):
    size_flag = "" if size == 28 else f" --size={size}"
    return (
        f"load_medmnist: {path} not found.\n"
        f"MedMNIST is not shipped with tinymed; get the file {path.name} in one of these ways:\n"
        f"  - pip install medmnist, then: python -m medmnist download{size_flag}\n"
        f"    (writes every MedMNIST set into ~/.medmnist/);\n"
        f"  - download {path.name} from https://zenodo.org/records/10519652 (see https://medmnist.com)\n"
        f"    and copy it into ~/.medmnist/, or pass root= the folder that holds it."
    )


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive with members, an empty one


def _read(path):
    """All arrays of an ``.npz`` file, refusing pickled objects.

    A file that is not a MedMNIST ``.npz`` gets a ``ValueError`` that says which of three things
    is wrong -- not a zip archive at all (an HTML error page saved by a download, say), a damaged
    or truncated archive, or an archive holding something other than plain arrays -- and what to
    do about it.
    """
    with open(path, "rb") as file:
        head = file.read(4)
    if head not in _ZIP_MAGIC:
        found = "is empty" if not head else f"starts with {head!r}"
        raise ValueError(f"load_medmnist: {path} is not a readable MedMNIST .npz file: an .npz file is a zip "
                         f"archive, and this one {found}; download it again")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as error:
        raise ValueError(f"load_medmnist: {path} is not a readable MedMNIST .npz file: it is damaged or "
                         f"truncated ({error}); download it again") from None
    except ValueError as error:  # pickled object arrays, or members that are not .npy arrays
        raise ValueError(f"load_medmnist: {path} is not a readable MedMNIST .npz file: it holds something other "
                         f"than plain arrays ({error}); pickled objects are refused, and a MedMNIST file holds "
                         "uint8 images and integer labels") from None


def _check(path, arrays, split):
    images_key, labels_key = f"{split}_images", f"{split}_labels"
    missing = [key for key in (images_key, labels_key) if key not in arrays]
    if missing:
        raise ValueError(f"load_medmnist: {path} has no {' or '.join(missing)}; it holds {sorted(arrays)} "
                         f"(a MedMNIST file has {', '.join(f'{s}_images, {s}_labels' for s in SPLITS)})")
    images, labels = arrays[images_key], arrays[labels_key]
    if images.dtype != np.uint8 or not (images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3)):
        raise ValueError(f"load_medmnist: {path}: {images_key} must be uint8 (N, H, W) or (N, H, W, 3), "
                         f"got {images.dtype} {images.shape}")
    if labels.dtype.kind not in "iu" or labels.ndim != 2 or len(labels) != len(images):
        raise ValueError(f"load_medmnist: {path}: {labels_key} must be integers (N, 1) or (N, L) with "
                         f"N = {len(images)}, got {labels.dtype} {labels.shape}")
    return images, labels


def load_medmnist(name: str = "pneumoniamnist", split: str = "train", root=None, size: int = 28) -> Dataset:
    """Load one split of a 2-D MedMNIST set from ``<root>/<name>.npz``.

    ``root`` defaults to ``~/.medmnist`` (where the ``medmnist`` package saves its files);
    ``size`` 28 (MedMNIST v2) or 64, 128, 224 (MedMNIST+, file ``<name>_<size>.npz``).
    Returns a :class:`~tinymed.data.dataset.Dataset`: images float32 ``(N, C, H, W)`` scaled
    to [0, 1] (C = 1 grey or 3 colour), labels int64 ``(N,)`` (``(N, 14)`` for ChestMNIST,
    multi-label).  A missing file raises ``FileNotFoundError`` that says where it looked and
    how to get the file; a damaged or foreign file raises ``ValueError`` that says what is wrong.
    """
    name = name.lower()
    if name not in CLASS_NAMES:
        raise ValueError(f"load_medmnist: unknown or unsupported set {name!r}; the 2-D MedMNIST sets are "
                         f"{', '.join(CLASS_NAMES)}")
    if split not in SPLITS:
        raise ValueError(f"load_medmnist: split must be one of {SPLITS}, got {split!r}")
    if size not in (28, 64, 128, 224):
        raise ValueError(f"load_medmnist: size must be 28, 64, 128 or 224, got {size!r}")
    path = (Path(root) if root is not None else DEFAULT_ROOT).expanduser() / _file_name(name, size)
    if not path.is_file():
        raise FileNotFoundError(_missing_message(path, size))
    images, labels = _check(path, _read(path), split)
    X = images.astype(np.float32) / np.float32(255)
    X = X[:, None] if X.ndim == 3 else np.ascontiguousarray(X.transpose(0, 3, 1, 2))
    y = labels.astype(np.int64)
    if y.shape[1] == 1:
        y = y[:, 0]
    class_names = CLASS_NAMES[name]
    description = describe(
        f"MedMNIST v2 {name}, {split} split ({size} x {size})",
        f"{path}; {CITATION}; https://medmnist.com",
        "CC BY 4.0",
        X, y, class_names,
        notes="images scaled from uint8 to [0, 1]; layout (N, C, H, W)",
    )
    return Dataset(X, y, description, class_names=class_names)
