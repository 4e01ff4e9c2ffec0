"""Client code generation from the committed SDL, type-checked as a frontend would.

Runs @graphql-codegen/cli (typescript + typescript-operations) on schema.graphql and
the example operations in ``operations/``, then ``tsc --strict`` on the result and on a
small client that uses it. ``possible-types.yml`` generates Apollo Client's possibleTypes
into ``clients/`` (committed); a test fails while those files are stale. Node packages
come from the npm registry (locked in ``package-lock.json``) into
``tests/codegen/node_modules`` on first run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


def _run(command: list[str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def node_tools() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js is not installed: client codegen cannot be checked here")
    bin_dir = HERE / "node_modules" / ".bin"
    plugin = HERE / "node_modules" / "@graphql-codegen" / "fragment-matcher"
    if not all(p.exists() for p in (bin_dir / "graphql-codegen", bin_dir / "tsc", plugin)):
        installed = _run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], timeout=600)
        assert installed.returncode == 0, installed.stderr[-2000:]
    return bin_dir


def test_generated_client_types_check(node_tools: Path) -> None:
    generated = _run([str(node_tools / "graphql-codegen"), "--config", "codegen.yml"])
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    code = (HERE / "generated" / "graphql.ts").read_text()
    assert "export type LoginMutation" in code
    assert "export type AdminUsersPageQuery" in code
    checked = _run([str(node_tools / "tsc"), "-p", "tsconfig.json"])
    assert checked.returncode == 0, checked.stdout[-3000:]


def test_codegen_rejects_an_operation_the_schema_does_not_have(
    node_tools: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.graphql"
    bad.write_text("query Nope { me { password } }\n")
    config = tmp_path / "codegen.yml"
    config.write_text(
        f"schema: {HERE.parent.parent / 'schema.graphql'}\n"
        f"documents: {bad}\n"
        f"generates:\n  {tmp_path / 'out.ts'}:\n    plugins: [typescript, typescript-operations]\n"
    )
    result = _run([str(node_tools / "graphql-codegen"), "--config", str(config)])
    assert result.returncode != 0


def test_committed_possible_types_match_the_schema(node_tools: Path, tmp_path: Path) -> None:
    """clients/possible-types.{json,ts} are what fragment-matcher makes of schema.graphql."""
    root = HERE.parent.parent
    config = (HERE / "possible-types.yml").read_text()
    config = config.replace("../../schema.graphql", str(root / "schema.graphql"))
    config = config.replace("../../clients/", f"{tmp_path}/")
    (tmp_path / "codegen.yml").write_text(config)
    result = _run([str(node_tools / "graphql-codegen"), "--config", str(tmp_path / "codegen.yml")])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in ("possible-types.json", "possible-types.ts"):
        assert (tmp_path / name).read_text() == (root / "clients" / name).read_text(), (
            f"clients/{name} is stale: cd tests/codegen && "
            "npx graphql-codegen --config possible-types.yml"
        )
    generated = json.loads((root / "clients" / "possible-types.json").read_text())
    assert "InvalidCredentials" in generated["possibleTypes"]["UserError"]
    assert "InvalidCredentials" in generated["possibleTypes"]["LoginResult"]


def test_web_client_types_are_current_and_check_strictly(node_tools: Path, tmp_path: Path) -> None:
    """clients/web/src/generated.ts is what web-client.yml makes of the SDL and the
    client's operations, and the client type-checks with `tsc --strict` against it."""
    root = HERE.parent.parent
    web = root / "clients" / "web"
    config = (HERE / "web-client.yml").read_text()
    config = config.replace("../../schema.graphql", str(root / "schema.graphql"))
    config = config.replace("../../clients/web/src/operations/", f"{web}/src/operations/")
    config = config.replace("../../clients/web/src/generated.ts", f"{tmp_path}/generated.ts")
    config = config.replace("./operation-documents.cjs", str(HERE / "operation-documents.cjs"))
    (tmp_path / "codegen.yml").write_text(config)
    result = _run([str(node_tools / "graphql-codegen"), "--config", str(tmp_path / "codegen.yml")])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "generated.ts").read_text() == (web / "src" / "generated.ts").read_text(), (
        "clients/web/src/generated.ts is stale: cd tests/codegen && "
        "npx graphql-codegen --config web-client.yml"
    )
    if not (web / "node_modules" / ".bin" / "tsc").exists():
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=web,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]
    checked = subprocess.run(
        [str(web / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json", "--noEmit"],
        cwd=web,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout[-3000:]
