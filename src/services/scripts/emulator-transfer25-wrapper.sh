#!/bin/sh
# Emulated Cosmos-Transfer2.5 entry point (examples/inference.py): runs cosmos-emulator in
# transfer25 mode (written by cosmos install_emulator; see docs/emulator.md).
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
COSMOS_EMULATOR_SCRIPT="$here/inference.py"
export COSMOS_EMULATOR_SCRIPT
exec "$here/../.emulator/cosmos-emulator" transfer25 "$@"
