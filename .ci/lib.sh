# Helpers of the extra CI jobs (sourced by .ci/package, .ci/coinstall and .ci/matrix).

# uv (from PyPI, installed into .venv by .ci/run): venvs and resolutions in seconds.
UV=${UV:-$PWD/.venv/bin/uv}

# The interpreter of Python $1 (3.10, 3.13...): pyenv's build if there is one, else pythonX.Y
# on PATH. uv cannot download Pythons here, so a missing one fails the job, naming it.
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
    echo "CI: no Python $version on this machine (pyenv install $version)" >&2
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
