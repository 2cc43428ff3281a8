"""The public namespace: every advertised name resolves, and the core stays framework-free."""

import subprocess
import sys

import attractorkit as ak
from attractorkit import adapters


def test_every_public_name_resolves():
    missing = [n for n in ak.__all__ if not hasattr(ak, n)]
    missing += [f"adapters.{n}" for n in adapters.__all__ if not hasattr(adapters, n)]
    assert not missing


def test_core_never_imports_torch_or_jax():
    code = (
        "import sys, attractorkit as ak\n"
        "[getattr(ak, n) for n in ak.__all__]\n"
        "bad = sorted(m for m in ('torch', 'jax') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "", f"the core imported {out.stdout.strip()}"
