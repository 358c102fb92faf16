"""Writing a file so that an interrupted write never destroys the previous one.

The data goes to a temporary file beside the target, is flushed to disk, takes the target's
permissions (or the umask's, for a new file), and is renamed over the target in one step; the
folder is then flushed too, so the rename itself survives a power cut.  Following ``np.savez``:
a write-protected target is refused, and saving through a symbolic link writes the file it
points to and keeps the link.

A process killed mid-write (``kill -9``) cannot clean up after itself, so the temporary file is
named after the target and the writing process (``.<name>.tinymed-<pid>-<random>.tmp``), and
the next save to the same target removes those whose process no longer runs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_TAG = "tinymed"


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


def stale_temporary_files(target: Path) -> list[Path]:
    """Temporary files left beside ``target`` by saves whose process died before finishing."""
    prefix = f".{target.name}.{_TAG}-"
    stale = []
    for entry in target.parent.glob(f".{target.name}.{_TAG}-*.tmp"):
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            stale.append(entry)
    return stale


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. a platform that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(op: str, path, write) -> Path:
    """Call ``write(file)`` on a temporary file and rename it over ``path``; returns the path written."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if target.is_dir():
        raise IsADirectoryError(f"{op}: {path} is a folder; give a file name such as {path / 'model.npz'}")
    # refused even for root, who may write anything: a file nobody may write is meant to be kept
    if target.exists() and (not os.access(target, os.W_OK) or not target.stat().st_mode & 0o222):
        raise PermissionError(f"{op}: {path} is write-protected; make it writable or save somewhere else")
    folder = target.parent if str(target.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in stale_temporary_files(target):
        stale.unlink(missing_ok=True)
    mode = (target.stat().st_mode & 0o7777) if target.exists() else (0o666 & ~_umask())
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{_TAG}-{os.getpid()}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)
    return path
