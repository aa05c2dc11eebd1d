"""The README's example runs as written and says what it claims."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_example_runs_and_recovers_the_simulated_valence(capsys):
    import matplotlib

    matplotlib.use("Agg")
    (example,) = _python_blocks()
    namespace: dict = {}
    exec(compile(example, str(README), "exec"), namespace)
    valence = namespace["spectro"].valence.valence(namespace["res"], namespace["line"])
    np.testing.assert_allclose(valence.valence.values, [2.0, 2.53, 3.0], atol=0.02)
    assert "e0_err" in capsys.readouterr().out
    assert namespace["ax"].get_xlabel().endswith("(eV)")


def test_readme_gives_exactly_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    setup = text[text.index("## Set up") : text.index("## Example")]
    commands = re.findall(r"```bash\n(.*?)```", setup, flags=re.S)
    assert len(commands) == 2
    assert "spectro demo" in commands[0] and "pytest" in commands[1]
