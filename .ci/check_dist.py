"""What a packager checks in a release, on the sdist and wheel in DIST (``.ci/package``):

- the wheel holds the package (with ``py.typed``) and its metadata only: no tests, no docs;
- both carry the LICENSE, and the metadata says ``License-Expression: Apache-2.0``;
- the version is ``resilient_s3.__version__``; the classifiers name ``Typing :: Typed`` and every
  Python version the test jobs run; project URLs are there;
- awscrt is required only through the ``[crt]`` extra, the type stubs (mypy-boto3-s3,
  types-aiobotocore-s3, types-aiobotocore) only through ``[types]``;
- the sdist carries the tests, docs and CHANGELOG a packager runs and reads.

    python .ci/check_dist.py DIST
"""

from __future__ import annotations

import ast
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
EXTRA_ONLY = {
    "awscrt": "crt",
    "mypy-boto3-s3": "types",
    "types-aiobotocore-s3": "types",
    "types-aiobotocore": "types",
}


def source_version(root: Path) -> str:
    tree = ast.parse((root / "resilient_s3" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__version__":
            return str(ast.literal_eval(node.value))
    raise SystemExit("resilient_s3/__init__.py has no __version__")


def check_wheel(path: Path, version: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        info = f"resilient_s3-{version}.dist-info"
        metadata = Parser().parsestr(wheel.read(f"{info}/METADATA").decode())
    strays = [n for n in names if not n.startswith(("resilient_s3/", f"{info}/"))]
    if strays:
        problems.append(f"wheel: files outside the package: {strays[:5]}")
    if any("/tests/" in f"/{n}" or n.startswith("tests/") for n in names):
        problems.append("wheel: holds tests")
    if "resilient_s3/py.typed" not in names:
        problems.append("wheel: no resilient_s3/py.typed")
    if f"{info}/licenses/LICENSE" not in names:
        problems.append("wheel: no LICENSE in its .dist-info/licenses/")
    if metadata["Version"] != version:
        problems.append(f"wheel: version {metadata['Version']}, the source says {version}")
    if metadata["License-Expression"] != "Apache-2.0":
        problems.append(f"wheel: License-Expression {metadata['License-Expression']!r}")
    if "LICENSE" not in (metadata.get_all("License-File") or []):
        problems.append("wheel: no License-File: LICENSE")
    classifiers = set(metadata.get_all("Classifier") or [])
    wanted = {"Typing :: Typed", *(f"Programming Language :: Python :: {v}" for v in PYTHONS)}
    if wanted - classifiers:
        problems.append(f"wheel: classifiers missing {sorted(wanted - classifiers)}")
    if not metadata.get_all("Project-URL"):
        problems.append("wheel: no Project-URL")
    for requirement in metadata.get_all("Requires-Dist") or []:
        name = requirement.split(";")[0].split("[")[0].split(">")[0].split("=")[0].strip()
        extra = EXTRA_ONLY.get(name.lower())
        if extra is not None and f'extra == "{extra}"' not in requirement:
            problems.append(f"wheel: {requirement!r} outside the [{extra}] extra")
    return problems


def check_sdist(path: Path) -> list[str]:
    with tarfile.open(path) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    wanted = {"LICENSE", "PKG-INFO", "pyproject.toml", "README.md", "CHANGELOG.md",
              "resilient_s3/py.typed", "tests/conftest.py", "docs/migration.md"}  # fmt: skip
    return [f"sdist: no {name}" for name in sorted(wanted - names)]


def main(dist: Path) -> int:
    root = Path(__file__).resolve().parent.parent
    version = source_version(root)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"check_dist: expected one wheel and one sdist in {dist}, found {wheels + sdists}")
        return 1
    problems = check_wheel(wheels[0], version) + check_sdist(sdists[0])
    for problem in problems:
        print(f"check_dist: {problem}")
    if not problems:
        print(f"check_dist: {wheels[0].name} and {sdists[0].name} hold what a packager expects")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
