"""tinymed.graph is a domain beside tinymed.recsys: it shares tinymed.sparse with it, nothing else."""

import subprocess
import sys


def test_importing_graph_loads_no_recommender_module():
    code = "import tinymed.graph, sys; print([m for m in sys.modules if m.startswith('tinymed.recsys')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
