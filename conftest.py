"""Executed documentation: every Python block of the pages below runs in the test suite (sybil).

Each page runs top to bottom in one namespace, in a fresh temporary directory. Pages whose
results a dedicated test checks (README.md, docs/tutorial.md, docs/adapters.md, docs/api.md,
docs/study.md: tests/test_readme.py, tests/test_tutorial.py, tests/adapters/test_adapters_doc.py,
tests/test_docs_index.py, tests/test_docs_run.py) are left to those tests; tests/test_docs_run.py
checks that no page with Python blocks is left out of both.
"""

import os
import sys
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")

from sybil import Sybil  # noqa: E402
from sybil.parsers.markdown import PythonCodeBlockParser  # noqa: E402

#: Pages whose Python blocks a dedicated test runs (and checks the results of).
DEDICATED = ("docs/tutorial.md", "docs/adapters.md", "docs/api.md", "docs/study.md")


def _enter_tmp(namespace):
    namespace["_docs_cwd"] = os.getcwd()
    namespace["_docs_tmp"] = tempfile.TemporaryDirectory(prefix="ak-docs-")
    os.chdir(namespace["_docs_tmp"].name)
    namespace["__name__"] = "__main__"


def _leave_tmp(namespace):
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    os.chdir(namespace["_docs_cwd"])
    namespace["_docs_tmp"].cleanup()


pytest_collect_file = Sybil(
    parsers=[PythonCodeBlockParser()],
    patterns=["docs/*.md", "docs/examples/*.md"],
    excludes=list(DEDICATED),
    setup=_enter_tmp,
    teardown=_leave_tmp,
).pytest()
