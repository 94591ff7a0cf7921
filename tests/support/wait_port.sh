# shellcheck shell=bash
# wait_port.sh: sourced by the tests/script_*.sh that start the real binary.

# pc_wait_port LOG PID SCHEME [TENTHS]: prints the port of the server's
# "listening on SCHEME://127.0.0.1:PORT" line in LOG, waiting while PID
# lives, for at most TENTHS tenths of a second (default 600: sanitizer
# builds start slowly). Prints nothing and returns 1 when the server died
# or never said it.
pc_wait_port() {
    local log=$1 pid=$2 scheme=$3 tenths=${4:-600} port _
    for _ in $(seq 1 "$tenths"); do
        port=$(sed -n "s|.*listening on $scheme://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p" "$log" | head -n1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
