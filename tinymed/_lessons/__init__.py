"""Where an installed tinymed keeps its lessons.

In the repository the lesson scripts live in the top-level ``lessons/`` folder, next to
``tinymed/``.  ``pyproject.toml`` maps this package to that folder (``package-dir``), so a
wheel carries them here as ``tinymed/_lessons/NN_name.py``; this file only makes setuptools
discover the package and is not itself installed.  ``tinymed.lessons.lessons_dir()`` finds
the lessons in either place.
"""
