# The command server of an SSH connection (src/transport/ssh_command_server.hpp): runs one
# command per line read, each in a subshell with stdin from /dev/null: it answers "cosmos-cmd-run"
# before running it (a client that never sees this knows the command did not run), then
# "cosmos-cmd RC OUT_BYTES ERR_BYTES" followed by the command's stdout and stderr bytes.
# The lines use "$nl" for a newline inside an argument.
# shellcheck disable=SC2034  # used by the evaluated command lines
nl='
'
# The commands can tell they run here (and tests that they share one server).
COSMOS_COMMAND_SERVER=$$
export COSMOS_COMMAND_SERVER
d=$(mktemp -d "${TMPDIR:-/tmp}/cosmos-cmd.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
trap 'exit 129' HUP
trap 'exit 143' TERM
echo cosmos-cmd-ready
while IFS= read -r line; do
    echo cosmos-cmd-run
    (eval "$line") </dev/null >"$d/o" 2>"$d/e"
    rc=$?
    printf 'cosmos-cmd %s %s %s\n' "$rc" "$(($(wc -c <"$d/o")))" "$(($(wc -c <"$d/e")))"
    cat "$d/o" "$d/e"
done
