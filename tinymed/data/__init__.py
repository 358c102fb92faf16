"""Medical data sets, splits, preprocessing and augmentation, all offline and seeded."""

from .augment import (
    Compose,
    GaussianNoise,
    RandomBrightnessContrast,
    RandomHorizontalFlip,
    RandomRotation,
    RandomScale,
    RandomShift,
    RandomVerticalFlip,
)
from .breast_cancer import load_breast_cancer
from .clinical_corpus import ClinicalCorpus, clinical_corpus
from .dataset import Dataset
from .loader import DataLoader, TensorDataset
from .medmnist import load_medmnist
from .notes import Tokenizer, Vocabulary, clinical_notes, medication_orders
from .phantoms import chest_phantoms
from .preprocess import Cleaner, CleaningReport, MinMaxScaler, StandardScaler, clean
from .split import stratified_split, train_test_split
from .vitals import news2_score, vital_signs

__all__ = [
    "Dataset", "DataLoader", "TensorDataset", "chest_phantoms", "load_medmnist", "load_breast_cancer",
    "stratified_split", "train_test_split", "Cleaner", "CleaningReport", "MinMaxScaler", "StandardScaler",
    "clean", "Compose", "GaussianNoise", "RandomBrightnessContrast", "RandomHorizontalFlip", "RandomRotation",
    "RandomScale", "RandomShift", "RandomVerticalFlip", "vital_signs", "news2_score", "clinical_notes",
    "medication_orders", "Tokenizer", "Vocabulary", "clinical_corpus", "ClinicalCorpus",
]
