#!/bin/sh
# Emulated Cosmos-Transfer1 prompt upsampler: runs cosmos-emulator in upsampler mode
# (written by cosmos install_emulator; see docs/emulator.md).
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || exit 1
COSMOS_EMULATOR_SCRIPT="$here/upsampler_pipeline.py"
export COSMOS_EMULATOR_SCRIPT
exec "$here/../../../../.emulator/cosmos-emulator" upsampler "$@"
