"""Running a simulation's ES module in Node, for tests that compare the page's arithmetic
with Python's (the module is ``convkit.sims``' own, helpers included, without its
``render`` export)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from convkit.sims._base import esm_source


def run_sim_module(name: str, script: str, timeout: float = 60) -> Any:
    """Run simulation ``name``'s module followed by ``script`` in Node; return the JSON the
    script prints (one ``console.log(JSON.stringify(...))``).  ``readFileSync`` is
    imported for scripts that read a state file."""
    source = esm_source(name).replace("export default { render };", "")
    program = 'import { readFileSync } from "node:fs";\n' + source + "\n" + script
    out = subprocess.run(
        ["node", "--input-type=module"],
        input=program,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout
    return json.loads(out)
