"""Runs the Python reference implementation printed in docs/assignment.md (the first ```python
block, executed as written) over the held ids, for the cross-language test. Reads a JSON spec on
stdin: {"ids": [...], "rollout_salt": str, "percentage": float, "seed": str, "groups": [[name, w]]}
and prints {"in_rollout": [bool...], "group": [name...]}."""
import json
import pathlib
import re
import sys

doc = pathlib.Path(__file__).parents[2].joinpath("docs", "assignment.md").read_text(encoding="utf-8")
code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
scope: dict = {}
exec(code, scope)
spec = json.load(sys.stdin)
groups = [(name, weight) for name, weight in spec["groups"]]
print(json.dumps({
    "in_rollout": [scope["bucket"](spec["rollout_salt"], u) < spec["percentage"] * 100 for u in spec["ids"]],
    "group": [scope["group"](spec["seed"], u, groups) for u in spec["ids"]],
}))
