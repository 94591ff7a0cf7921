# shellcheck shell=bash
# bench/lib.sh: shell helpers shared by bench/auth and bench/run.
# Sourced, not run: it defines functions and changes no state.

# Installs from Debian those of the given packages that are not installed,
# as root or through sudo.
bench_apt_install() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null ||
      { echo "bench: need root or sudo to install: ${missing[*]}" >&2; return 1; }
    sudo=sudo
  fi
  echo "bench: installing ${missing[*]}" >&2
  $sudo apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# First TCP port in [from, to] that nothing listens on (loopback or any).
bench_free_port() {
  local p
  for ((p = $1; p <= $2; p++)); do
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
  done
  echo "bench: no free port in $1-$2" >&2
  return 1
}

# Polls a URL with curl (extra curl arguments after it) until it answers,
# for at most 10 s.
bench_wait_url() {
  local url=$1 _
  shift
  for _ in $(seq 100); do
    curl -s -o /dev/null "$@" "$url" && return 0
    sleep 0.1
  done
  echo "bench: $url did not answer within 10 s" >&2
  return 1
}

# The access token of a login response (a JSON object) on stdin. sed, not a
# JSON parser: the token is base64url and dots, never quotes or escapes.
bench_access_token() {
  sed -n 's/.*"access_token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
}

# wrk output parsers: each takes the file holding wrk's output.
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_pct() { awk -v p="$2%" '$1 == p {print $2}' "$1"; } # file, 50|75|90|99
# "1.5ms", "830.00us", "1.02s" -> milliseconds
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.3f", n }'; }
# The error lines, or "none".
wrk_errors() { awk '/Non-2xx|Socket errors/ {print; f=1} END {if (!f) print "none"}' "$1" | tr '\n' ' ' | sed 's/ *$//'; }
# Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses;
# a missing Requests/sec line (wrk failed) counts as one error.
wrk_error_count() {
  awk '/Socket errors:/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i }
       /Non-2xx or 3xx responses:/ { n += $NF }
       /^Requests\/sec:/ { ok = 1 }
       END { if (!ok) n++; print n + 0 }' "$1"
}

# Median of the numbers on stdin, one a line; "n/a" when there are none.
bench_median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
