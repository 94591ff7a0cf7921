# shellcheck shell=bash
# script_procs.sh: sourced by the tests/script_*.sh that run servers of
# their own (portcullis, an upstream, nginx, HAProxy): one temporary
# directory and the processes to stop when the script ends, however it ends.

# pc_tmp NAME: makes $tmp (/tmp/pc-NAME-XXXXXX), empties the array pids,
# and sets an EXIT trap that sends TERM to every PID in pids, waits for
# them, and removes $tmp (kept, and its path printed, when PC_KEEP_TMP is
# set). Add each started process with pids+=($!).
pc_tmp() {
    tmp=$(mktemp -d "/tmp/pc-$1-XXXXXX")
    pids=()
    trap pc_cleanup EXIT
}

pc_cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ -z "${PC_KEEP_TMP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}

# free_port: a loopback TCP port that was free a moment ago.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
