#!/bin/bash
# A fake suite for the runner's selftest: hangs until the runner's timeout
# (SUITE_TIMEOUT) kills it.
. "$(dirname "$0")/../../lib.sh"
check "a check before the hang" true
sleep "${HANG_S:-120}"
finish
