#!/bin/bash
# A fake suite for the runner's selftest: one check passes, one fails, and
# the tally says so (exit 1): counted as it says, nothing more.
. "$(dirname "$0")/../../lib.sh"
check "true passes" true
check "false fails" false
finish
