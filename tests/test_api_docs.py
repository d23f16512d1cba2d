"""docs/api.md's Python example runs as written against a live server (so
the document and the API cannot drift apart)."""

import os
import re
import subprocess
import sys

from tests.conftest import PASSWORD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def example() -> str:
    with open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8") as fh:
        text = fh.read()
    blocks = re.findall(r"```python\n(.*?)```", text.split("## Example", 1)[1], re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_documented_example_runs(live):
    env = dict(os.environ, QQH_URL=live.url, QQH_USER="fs_clerk", QQH_PASSWORD=PASSWORD)
    run = subprocess.run([sys.executable, "-c", example()], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "承接共青团事务类" in run.stdout
    assert "“服务领域”为必填项" in run.stdout
