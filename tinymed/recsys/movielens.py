"""MovieLens-100k, the recommender field's yardstick, read from a copy you already have.

100,000 ratings (1-5 stars) of 1,682 films by 943 users, collected by GroupLens (University
of Minnesota). Its licence forbids redistribution, so tinymed ships none of it and
downloads nothing. This module knows where a copy may be and how its lines read; it knows
nothing of :class:`~tinymed.recsys.Dataset`, which composes the two in
:func:`~tinymed.recsys.load_movielens_100k` (and Surprise's ``Dataset.load_builtin('ml-100k')``).
:func:`find_movielens_100k` looks, in this order, at:

1. ``path``, when given: GroupLens's ``u.data`` (tab-separated *user item rating
   timestamp*, no header), the unzipped ``ml-100k/`` folder that holds it, or RecBole's
   ``ml-100k.inter`` (the same table under a header ``user_id:token item_id:token
   rating:float timestamp:float``);
2. otherwise the ``ml-100k.inter`` inside an installed ``recbole`` package
   (``pip install --no-deps recbole`` puts it in site-packages; it is found with
   ``importlib.util.find_spec``, without importing recbole and its dependencies);
3. otherwise Surprise's download folder (``$SURPRISE_DATA_FOLDER``, default
   ``~/.surprise_data/``), where ``surprise.Dataset.load_builtin('ml-100k')`` unpacks it.

Both files list the ratings in the same order, so the two give the same ratings, and the
same folds as Surprise's ``load_builtin('ml-100k')`` (ids are kept as strings).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

GROUPLENS_URL = "https://grouplens.org/datasets/movielens/100k/"
RATING_SCALE = (1, 5)
LINE_FORMAT, SEPARATOR = "user item rating timestamp", "\t"  # the Reader of the ratings read here
_INTER_COLUMNS = ("user_id", "item_id", "rating", "timestamp")


def _recbole_copy():
    """``recbole/dataset_example/ml-100k/ml-100k.inter`` of an installed recbole, or None."""
    try:
        spec = importlib.util.find_spec("recbole")  # finds the package without running it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "dataset_example" / "ml-100k" / "ml-100k.inter"
        if candidate.is_file():
            return candidate
    return None


def get_dataset_dir():
    """Surprise's download folder, as Surprise names it: ``$SURPRISE_DATA_FOLDER``, or else
    ``~/.surprise_data/``. tinymed only looks there; it never creates it or downloads into it."""
    return os.environ.get("SURPRISE_DATA_FOLDER", os.path.expanduser("~") + "/.surprise_data/")


def _surprise_copy():
    return Path(get_dataset_dir()) / "ml-100k" / "ml-100k" / "u.data"


def find_movielens_100k(path=None):
    """The file ``load_movielens_100k`` would read (a :class:`~pathlib.Path`).

    Raises ``FileNotFoundError`` saying where it looked and how to get the data.
    """
    if path is not None:
        path = Path(path).expanduser()
        if path.is_dir():
            for name in ("u.data", "ml-100k.inter", "ml-100k/u.data"):
                if (path / name).is_file():
                    return path / name
            raise FileNotFoundError(f"load_movielens_100k: folder {str(path)!r} holds neither u.data nor "
                                    "ml-100k.inter; expected the unzipped ml-100k folder from GroupLens")
        if not path.is_file():
            raise FileNotFoundError(f"load_movielens_100k: no file {str(path)!r}; expected GroupLens's u.data "
                                    "or RecBole's ml-100k.inter")
        return path
    recbole = _recbole_copy()
    if recbole is not None:
        return recbole
    surprise = _surprise_copy()
    if surprise.is_file():
        return surprise
    raise FileNotFoundError(
        "load_movielens_100k: no copy of MovieLens-100k found (its licence forbids shipping it with "
        "tinymed). Looked for the ml-100k.inter of an installed recbole package (none installed, or "
        f"without it) and for {str(surprise)!r}. Either download ml-100k.zip from {GROUPLENS_URL}, unzip "
        "it and call load_movielens_100k('path/to/ml-100k/u.data'), or run "
        "`pip install --no-deps recbole` and call load_movielens_100k() again.")


def read_movielens_100k(path=None):
    """The raw ratings ``[(user id, item id, rating, timestamp), ...]`` of the file
    :func:`find_movielens_100k` finds, the ids as the strings of the file.

    A line that does not parse raises ``ValueError`` naming the file and line.
    """
    file = find_movielens_100k(path)
    with open(file, encoding="utf-8") as f:
        lines = f.read().splitlines()
    columns = (0, 1, 2, 3)
    first = 0
    header = [field.split(":")[0].strip() for field in lines[0].split("\t")] if lines else []
    if "user_id" in header:  # RecBole's header: name:type per column
        missing = [c for c in _INTER_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"load_movielens_100k: {file.name} has header {lines[0]!r}; expected the "
                             f"columns {', '.join(_INTER_COLUMNS)}")
        columns = tuple(header.index(c) for c in _INTER_COLUMNS)
        first = 1
    ratings = [_parse(line, columns, file, number) for number, line in enumerate(lines[first:], first + 1)
               if line.strip()]
    if not ratings:
        raise ValueError(f"load_movielens_100k: {str(file)!r} holds no ratings")
    return ratings


def _parse(line, columns, file, number):
    fields = line.split("\t")
    try:
        user, item, rating, timestamp = (fields[c] for c in columns)
        return user.strip(), item.strip(), float(rating), int(float(timestamp))
    except (IndexError, ValueError):
        raise ValueError(f"load_movielens_100k: line {number} of {str(file)!r} is {line!r}; expected "
                         "tab-separated user, item, rating (a number) and timestamp") from None
