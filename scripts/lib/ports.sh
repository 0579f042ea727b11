# shellcheck shell=bash
# require_free_ports WHO VAR=PORT...: every script that starts services calls this before it starts anything, so a
# port another program holds stops it at once, naming the port, the variable that moves it and the holder.
require_free_ports() {
  local who=$1 spec var port listening holder
  shift
  for spec in "$@"; do
    var=${spec%%=*}
    port=${spec#*=}
    listening=$(ss -Htlnp "sport = :$port" 2>/dev/null | head -n1)
    [ -z "$listening" ] && continue
    holder=$(sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/ by \1 (pid \2)/p' <<<"$listening")
    echo "$who: port $port ($var) is already in use$holder; stop that program or set $var to a free port" >&2
    return 1
  done
}
