#!/bin/sh
# Runs the real-keychain tests of keybridge-secrets against a real Secret Service: a
# private D-Bus session bus with a throwaway, unlocked GNOME Keyring whose files live in
# a temporary HOME that is removed afterwards. The user's own keyring is never touched.
#
# Needs dbus-run-session and gnome-keyring-daemon: scripts/install-keyring-test-deps.sh.
# Honours CARGO_TARGET_DIR. Fails unless the real-keychain tests actually ran and passed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in dbus-run-session gnome-keyring-daemon cargo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-real-keychain: $tool not found; run scripts/install-keyring-test-deps.sh" >&2
        exit 1
    fi
done

# Cargo and rustup find their toolchains through HOME unless told otherwise; pin them
# before HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -m 700 "$scratch/home" "$scratch/runtime"
export HOME="$scratch/home"
export XDG_RUNTIME_DIR="$scratch/runtime"
export XDG_DATA_HOME="$HOME/.local/share"
export XDG_CONFIG_HOME="$HOME/.config"
unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL

cd "$repo"
# Inside the private bus: start the keyring daemon with a login keyring unlocked by a
# known password, then run only the real-keychain tests.
dbus-run-session -- sh -c '
    printf %s pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    KEYBRIDGE_REAL_KEYCHAIN=1 cargo test -p keybridge-secrets real_keychain &&
    KEYBRIDGE_REAL_KEYCHAIN=1 cargo test --workspace --lib real_keychain
' 2>&1 | tee "$scratch/log"

status=0
for name in real_keychain_stores_reads_and_deletes_a_secret real_keychain_is_what_auto_chooses \
    app::tests::real_keychain_keeps_a_token_for_copying_and_forgets_it_on_revoke; do
    if ! grep -q "^test $name \.\.\. ok$" "$scratch/log"; then
        echo "test-real-keychain: $name did not run and pass" >&2
        status=1
    fi
done
if grep -q '^skipped:' "$scratch/log"; then
    echo "test-real-keychain: a real-keychain test skipped itself" >&2
    status=1
fi
[ "$status" -eq 0 ] || exit "$status"
echo "test-real-keychain: passed against a real Secret Service (GNOME Keyring)"
