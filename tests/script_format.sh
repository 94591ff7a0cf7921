#!/usr/bin/env bash
# script_format.sh: every tracked .c/.h file (and any new one git does not
# ignore) is formatted as .clang-format says. Fails listing the files that
# are off; `clang-format -i FILE` fixes one.
# Environment: PC_SOURCE_DIR (the source tree; default: this script's parent),
# CLANG_FORMAT (default: clang-format).
set -euo pipefail

src=${PC_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
cf=${CLANG_FORMAT:-clang-format}
cd "$src"

if ! command -v "$cf" >/dev/null; then
    echo "script_format: $cf is not installed (run: make deps-test)" >&2
    exit 1
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "script_format: $src is not a git checkout: nothing says which files are ours" >&2
    exit 1
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h')
present=()
for f in "${files[@]}"; do
    [ -f "$f" ] && present+=("$f") # not the ones deleted in the working tree
done
# One run over all files; each violation is reported as "FILE:LINE:COL: error:".
status=0
report=$("$cf" --dry-run --Werror "${present[@]}" 2>&1 >/dev/null) || status=$?
mapfile -t off < <(printf '%s\n' "$report" | sed -n 's/^\(.*\):[0-9]*:[0-9]*: error:.*/\1/p' | sort -u)
if [ "$status" -ne 0 ] && [ "${#off[@]}" -eq 0 ]; then
    echo "script_format: $cf failed:" >&2
    printf '%s\n' "$report" >&2
    exit 1
fi
if [ "${#off[@]}" -ne 0 ]; then
    echo "script_format: ${#off[@]} file(s) off-format (fix: $cf -i FILE):" >&2
    printf '  %s\n' "${off[@]}" >&2
    exit 1
fi
echo "script_format: ${#present[@]} files formatted"
