#!/usr/bin/env bash
# script_layers.sh: the include rules between the layers, checked rather than
# only agreed (docs/ARCHITECTURE.md, Layers). Reads every `#include "dir/..."`
# of the product's sources and fails, listing each offending line, when a
# layer includes one it must not:
#   tls/   nothing of ours          db/    nothing of ours
#   server/  tls/                   auth/  server/ and db/
#   demo/  server/ and tls/         server/main.c, server/root.c  everything
#                                   (the composition root)
#   examples/  only the public API, server/portcullis.h (and their own
#              headers, and system or library headers such as jansson's)
# A layer may always include its own headers. Tests, bench and fuzz harnesses
# are not layers and are not checked.
# Environment: PC_SOURCE_DIR (the source tree; default: this script's parent).
set -euo pipefail

src=${PC_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"

layer_of() {
    case "$1" in
        server/main.c|server/root.c) echo main ;;
        demo/*) echo demo ;;
        tls/*) echo tls ;;
        db/*) echo db ;;
        server/*) echo server ;;
        auth/*) echo auth ;;
        examples/*) echo example ;;
        *) echo other ;;
    esac
}

may_include() { # $1 layer of the includer, $2 layer of the included
    [ "$1" = "$2" ] && return 0
    case "$1:$2" in
        main:*) return 0 ;;
        server:tls) return 0 ;;
        auth:server|auth:db) return 0 ;;
        demo:server|demo:tls) return 0 ;;
    esac
    return 1
}

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
        'tls/*.[ch]' 'db/*.[ch]' 'server/*.[ch]' 'auth/*.[ch]' 'demo/*.[ch]' 'examples/*.[ch]')
else
    mapfile -t files < <(find tls db server auth demo examples -name '*.[ch]' 2>/dev/null | sort)
fi
if [ "${#files[@]}" -eq 0 ]; then
    echo "script_layers: no sources found under $src" >&2
    exit 1
fi

bad=0
for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    from=$(layer_of "$f")
    while IFS=: read -r line target; do
        case "$target" in */*) ;; *) continue ;; esac # "x.h": same directory
        if [ "$from" = example ]; then
            # An application sees the public header and nothing else of ours,
            # whether it asks with quotes or angle brackets.
            [ "$target" = server/portcullis.h ] && continue
            case "$(layer_of "$target")" in other) continue ;; esac
            echo "$f:$line: examples/ may include only \"server/portcullis.h\" of ours, not \"$target\""
            bad=1
            continue
        fi
        to=$(layer_of "$target")
        may_include "$from" "$to" && continue
        echo "$f:$line: $from/ may not include \"$target\" ($to/)"
        bad=1
    done < <(awk -v angle="$([ "$from" = example ] && echo 1 || echo 0)" '
                  match($0, /^[ \t]*#[ \t]*include[ \t]*"[^"]*"/) {
                      t = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", t); sub(/"$/, "", t)
                      print FNR ":" t; next }
                  angle == 1 && match($0, /^[ \t]*#[ \t]*include[ \t]*<[^>]*>/) {
                      t = substr($0, RSTART, RLENGTH); sub(/^[^<]*</, "", t); sub(/>$/, "", t)
                      print FNR ":" t }' "$f")
done
if [ "$bad" -ne 0 ]; then
    echo "script_layers: include rules broken (see the lines above)" >&2
    exit 1
fi
echo "script_layers: ${#files[@]} files follow the include rules"
