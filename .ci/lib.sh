# Helpers of the extra CI jobs (sourced by .ci/package, .ci/coinstall and .ci/matrix).

# uv (from PyPI, installed into .venv by .ci/run): venvs and resolutions in seconds.
UV=${UV:-$PWD/.venv/bin/uv}

# The interpreter of Python $1 (3.10, 3.13...), the first found of: pyenv's build (this kind of
# machine ships pyenv with 3.10 to 3.13), pythonX.Y on PATH, a build uv installed earlier, and
# last uv's own build, downloaded (python-build-standalone; needs access beyond the package
# registries, which this kind of machine does not have). None of them: the job fails, naming it.
find_python() {
    local version=$1 candidate
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version"; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v "python$version" >/dev/null 2>&1 && "python$version" -c '' 2>/dev/null; then
        command -v "python$version"
        return 0
    fi
    if "$UV" python find --managed-python "$version" 2>/dev/null; then
        return 0
    fi
    if "$UV" python install -q "$version" >&2; then
        "$UV" python find --managed-python "$version"
        return
    fi
    echo "CI: no Python $version on this machine, and uv could not download one" \
        "(pyenv install $version, or apt-get install python$version)" >&2
    return 1
}

# A fresh venv at $2 for Python $1.
fresh_venv() {
    rm -rf "$2"
    "$UV" venv -q --python "$(find_python "$1")" "$2"
}

# uv pip in the venv $1: in_venv DIR install ...
in_venv() {
    local venv=$1
    shift
    VIRTUAL_ENV=$venv "$UV" pip "$@"
}
