"""The safe writer: one output directory resolved once, single-component names, atomic writes
that never follow a link at the final name (issue 19, item 1)."""

import os
import stat

import matplotlib.pyplot as plt
import numpy as np
import pytest

from attractorkit import ValidationError
from attractorkit.core import atomic_path, check_name, output_dir, write_bytes, write_text


def test_output_dir_creates_resolves_and_probes(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    d = output_dir(tmp_path / "link" / "a" / "b")
    assert d == (tmp_path / "real" / "a" / "b").resolve() and d.is_dir()
    assert list(d.iterdir()) == []  # the write probe leaves nothing behind
    assert output_dir(str(d), create=False) == d


@pytest.mark.parametrize("make, pattern", [
    (lambda p: p.write_text("x") and p, "which is an existing file"),
    (lambda p: p.write_text("x") and p / "sub", "can be created.*Not a directory"),
    (lambda p: "/proc/attractorkit-test", "can be created"),
    (lambda p: "/proc", "expected a writable directory"),
    (lambda p: p / "missing", "does not exist"),
])
def test_output_dir_refuses_unusable_paths_naming_the_argument(tmp_path, make, pattern):
    target = make(tmp_path / "f")
    create = "missing" not in str(target)
    with pytest.raises(ValidationError, match=rf"--out: .*({pattern})"):
        output_dir(target, create=create, argument="--out")


@pytest.mark.parametrize("bad", [None, 3, b"bytes", "", "a\x00b"])
def test_output_dir_refuses_non_paths(bad):
    with pytest.raises(ValidationError, match="^out: "):
        output_dir(bad, argument="out")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "/etc/passwd", "a\\b",
                                  "nul\x00", "x" * 256, 3, None, b"x"])
def test_check_name_refuses_everything_but_one_component(name):
    with pytest.raises(ValidationError, match="study name"):
        check_name(name, what="study name")


@pytest.mark.parametrize("name", ["summary.txt", "run-001", ".hidden", "é ünïcode", "a..b"])
def test_check_name_keeps_single_components(name):
    assert check_name(name) == name


def test_write_replaces_a_link_and_never_writes_its_target(tmp_path):
    """Regression (issue 19): a link at the final name pointed outside the output directory and
    the write went through it."""
    out = output_dir(tmp_path / "out")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in ("summary.txt", "analysis.npz", "report.html"):
        os.symlink(victim, out / name)
    write_text(out, "summary.txt", "new")
    write_bytes(out, "analysis.npz", b"\x00\x01")
    with atomic_path(out, "report.html") as tmp:
        tmp.write_text("<html>")
    assert victim.read_text() == "precious"
    for name, content in (("summary.txt", b"new"), ("analysis.npz", b"\x00\x01"),
                          ("report.html", b"<html>")):
        assert not (out / name).is_symlink() and (out / name).read_bytes() == content
    # a dangling link is replaced too, never followed to create its target
    os.symlink(tmp_path / "elsewhere", out / "dangling")
    write_text(out, "dangling", "x")
    assert not (tmp_path / "elsewhere").exists() and (out / "dangling").read_text() == "x"


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    out = output_dir(tmp_path)
    write_text(out, "f.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(out, "f.txt") as tmp:
            tmp.write_text("partial")
            raise RuntimeError("crash mid-write")
    assert (out / "f.txt").read_text() == "old"
    assert sorted(p.name for p in out.iterdir()) == ["f.txt"]
    path = write_text(out, "f.txt", "whole", fsync=True)
    assert path == out / "f.txt" and path.read_text() == "whole"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in out.iterdir()) == ["f.txt"]


def test_atomic_path_keeps_the_suffix_for_format_sniffing_writers(tmp_path):
    out = output_dir(tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    with atomic_path(out, "figure.png") as tmp:
        assert tmp.name.endswith("figure.png") and tmp.parent == out
        fig.savefig(tmp)
    plt.close(fig)
    assert (out / "figure.png").read_bytes()[:4] == b"\x89PNG"
    with atomic_path(out, "arrays.npz") as tmp:
        np.savez(tmp, a=np.arange(3))
    assert sorted(p.name for p in out.iterdir()) == ["arrays.npz", "figure.png"]


def test_writer_refuses_bad_names_and_directories_in_the_way(tmp_path):
    out = output_dir(tmp_path)
    (out / "taken").mkdir()
    with pytest.raises(ValidationError, match="existing directory"):
        write_text(out, "taken", "x")
    with pytest.raises(ValidationError, match="single path component"):
        write_text(out, "../escape.txt", "x")
    with pytest.raises(ValidationError, match="directory"):
        write_text(out / "absent", "f.txt", "x")
    with pytest.raises(ValidationError, match="data: expected bytes"):
        write_bytes(out, "f.bin", "text")
    assert not (tmp_path.parent / "escape.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == ["taken"]
