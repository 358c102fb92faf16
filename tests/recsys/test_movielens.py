"""load_movielens_100k on small files in both formats (the real data is never shipped), where
it looks when given no path, and its errors. One test reads the real copy where there is one."""

import importlib
import sys

import pytest

from tinymed.recsys import Dataset, find_movielens_100k, load_movielens_100k, movielens

ROWS = [("196", "242", 3.0, 881250949), ("186", "302", 3.0, 891717742), ("22", "377", 1.0, 878887116),
        ("196", "377", 5.0, 881250950)]


def write_u_data(path, rows=ROWS):
    path.write_text("".join(f"{u}\t{i}\t{int(r)}\t{t}\n" for u, i, r, t in rows), encoding="utf-8")
    return path


def write_inter(path, rows=ROWS):
    # RecBole's header, with the columns in another order to check they are read by name
    lines = ["rating:float\tuser_id:token\ttimestamp:float\titem_id:token"]
    lines += [f"{r}\t{u}\t{t}\t{i}" for u, i, r, t in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No recbole copy and an empty Surprise folder: load_movielens_100k() finds nothing."""
    monkeypatch.setattr(movielens, "_recbole_copy", lambda: None)
    monkeypatch.setenv("SURPRISE_DATA_FOLDER", str(tmp_path / "surprise_data"))
    return tmp_path


def test_u_data_and_inter_files_give_the_same_dataset(tmp_path):
    from_u = load_movielens_100k(write_u_data(tmp_path / "u.data"))
    from_inter = load_movielens_100k(write_inter(tmp_path / "ml-100k.inter"))
    assert isinstance(from_u, Dataset) and len(from_u) == 4
    assert from_u.raw_ratings == ROWS == from_inter.raw_ratings
    assert from_u.reader.rating_scale == (1, 5)
    t = from_u.build_full_trainset()
    assert (t.n_users, t.n_items) == (3, 3) and t.to_inner_uid("196") == 0


def test_a_folder_is_searched_for_either_file(tmp_path):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    write_u_data(folder / "u.data")
    assert find_movielens_100k(folder) == folder / "u.data"
    assert find_movielens_100k(tmp_path) == folder / "u.data"  # the folder the zip unpacks into
    other = tmp_path / "recbole_copy"
    other.mkdir()
    write_inter(other / "ml-100k.inter")
    assert load_movielens_100k(other).raw_ratings == ROWS


def test_without_a_path_it_reads_recbole_without_importing_it(tmp_path, monkeypatch):
    package = tmp_path / "site" / "recbole"
    (package / "dataset_example" / "ml-100k").mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('recbole must not be imported')\n")
    write_inter(package / "dataset_example" / "ml-100k" / "ml-100k.inter")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "recbole", raising=False)
    importlib.invalidate_caches()
    assert find_movielens_100k() == package / "dataset_example" / "ml-100k" / "ml-100k.inter"
    assert load_movielens_100k().raw_ratings == ROWS
    assert Dataset.load_builtin("ml-100k").raw_ratings == ROWS  # Surprise's name for it
    assert "recbole" not in sys.modules


def test_without_recbole_it_reads_surprises_download_folder(nowhere):
    folder = nowhere / "surprise_data" / "ml-100k" / "ml-100k"
    folder.mkdir(parents=True)
    write_u_data(folder / "u.data")
    assert load_movielens_100k().raw_ratings == ROWS


def test_a_clear_message_when_there_is_no_copy(nowhere):
    with pytest.raises(FileNotFoundError) as info:
        load_movielens_100k()
    message = str(info.value)
    assert "load_movielens_100k: no copy of MovieLens-100k found" in message
    assert "grouplens.org" in message and "pip install --no-deps recbole" in message
    assert str(nowhere / "surprise_data") in message
    with pytest.raises(FileNotFoundError, match="no file .*missing.data"):
        load_movielens_100k(nowhere / "missing.data")
    with pytest.raises(FileNotFoundError, match="holds neither u.data nor ml-100k.inter"):
        load_movielens_100k(nowhere)
    with pytest.raises(ValueError, match="only 'ml-100k' is available"):
        Dataset.load_builtin("ml-1m")


@pytest.mark.parametrize("text, message", [
    ("1\t2\t3\t9\n4\t5\n", r"line 2 of .* is '4\\t5'; expected tab-separated user, item, rating"),
    ("1\t2\tgood\t9\n", "line 1 of"),
    ("1\t2\t7\t9\n", r"outside the rating scale \[1, 5\]"),
    ("1\t2\t3\t9\n1\t2\t4\t10\n", "rates item '2' more than once"),
    ("\n", "holds no ratings"),
    ("user_id:token\titem_id:token\trating:float\n1\t2\t3\n",
     "expected the columns user_id, item_id, rating, timestamp"),
])
def test_bad_files_are_named_with_the_line(tmp_path, text, message):
    path = tmp_path / "u.data"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_movielens_100k(path)


def test_the_real_copy_where_there_is_one():
    try:
        path = find_movielens_100k()
    except FileNotFoundError:
        pytest.skip("no copy of MovieLens-100k on this machine (pip install --no-deps recbole)")
    t = load_movielens_100k(path).build_full_trainset()
    assert (t.n_ratings, t.n_users, t.n_items) == (100_000, 943, 1682)
    assert t.global_mean == pytest.approx(3.52986)
