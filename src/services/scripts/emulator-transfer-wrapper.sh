#!/bin/sh
# Emulated Cosmos-Transfer1 entry point: runs cosmos-emulator in transfer mode
# (written by cosmos install_emulator; see docs/emulator.md).
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
COSMOS_EMULATOR_SCRIPT="$here/transfer.py"
export COSMOS_EMULATOR_SCRIPT
exec "$here/../../../.emulator/cosmos-emulator" transfer "$@"
