"""Fuzz: the command line with hostile option values. Bad input of any kind is exit 2 with
one line on stderr, and nothing is written; never a traceback, never exit 1."""

import json

import numpy as np
from hostile import profiles
from hypothesis import given
from hypothesis import strategies as st

from attractorkit import cli

TOKENS = st.sampled_from(["-1", "0", "abc", "", "1e9", "99999999999", "nan", "inf", "1,2",
                          "0:1:0", "0:1:99999999999", "a/../../b", "\x01", "2.5", ",", ":"])
FLAGS = ["--n-init", "--n-steps", "--n-transient", "--n-fixed-point-init", "--n-exponents",
         "--inputs", "--grid-shape", "--axis-names", "--cycles", "--seed", "--spec",
         "--activity", "--variables", "--out", "--initial-states", "--fixed-point-states"]


@profiles(12)
def test_analyze_with_hostile_values(profile, tmp_path_factory, capsys, monkeypatch):
    d = tmp_path_factory.mktemp("cli")
    monkeypatch.chdir(d)  # hostile relative --out values land here, never in the checkout
    model = d / "rnn.npz"   # weights and their JSON spec, as a user writes them
    np.savez(model, W=0.3 * np.eye(3), U=np.ones((3, 2)))
    (d / "rnn.json").write_text(json.dumps({"cell": "vanilla"}))
    (d / "file").write_text("x")

    @profile
    @given(changes=st.lists(st.tuples(st.sampled_from(FLAGS), TOKENS), min_size=1, max_size=3))
    def run(changes):
        opts = {"--inputs": "0,0", "--out": str(d / "out"), "--n-init": "2",
                "--n-steps": "60", "--n-transient": "10", "--n-fixed-point-init": "4"}
        for flag, value in changes:
            opts[flag] = value.replace("a/../../b", str(d / "file" / "x"))
        argv = ["analyze", str(model), "--no-census", "--no-lyapunov", "--no-report",
                "--no-progress", "--quiet"]
        for flag, value in opts.items():
            argv.append(f"{flag}={value}")
        code = cli.main(argv)
        err = capsys.readouterr().err
        assert code in (0, 2), (argv, code, err)
        if code == 2:
            assert "Traceback" not in err and err.strip(), (argv, err)

    run()
