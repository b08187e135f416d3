"""docs/AUTH_RULES.md stays true: it matches the tests' @covers declarations, and every
rule that auth_rules.py decides has a test in every room version that has the rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GENERATOR = Path(__file__).with_name("gen_auth_rules_table.py")


def test_auth_rules_doc_is_current_and_every_rule_is_tested():
    # A subprocess, so the generator's own pytest collection does not nest in this one.
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
