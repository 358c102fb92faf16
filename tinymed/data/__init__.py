"""Medical data sets, splits, preprocessing and augmentation, all offline and seeded."""
from .dataset import Dataset
from .loader import DataLoader, TensorDataset
from .phantoms import chest_phantoms
from .medmnist import load_medmnist
from .breast_cancer import load_breast_cancer
from .split import stratified_split, train_test_split
from .preprocess import Cleaner, CleaningReport, MinMaxScaler, StandardScaler, clean
from .augment import (Compose, GaussianNoise, RandomBrightnessContrast, RandomHorizontalFlip,
                      RandomRotation, RandomScale, RandomShift, RandomVerticalFlip)

__all__ = ["Dataset", "DataLoader", "TensorDataset", "chest_phantoms", "load_medmnist", "load_breast_cancer",
           "stratified_split", "train_test_split", "Cleaner", "CleaningReport", "MinMaxScaler",
           "StandardScaler", "clean", "Compose", "GaussianNoise", "RandomBrightnessContrast",
           "RandomHorizontalFlip", "RandomRotation", "RandomScale", "RandomShift",
           "RandomVerticalFlip"]
from .vitals import news2_score, vital_signs
from .notes import Tokenizer, Vocabulary, clinical_notes, medication_orders

__all__ += ["vital_signs", "news2_score", "clinical_notes", "medication_orders", "Tokenizer", "Vocabulary"]
