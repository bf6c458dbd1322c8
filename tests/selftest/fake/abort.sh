#!/bin/bash
# A fake suite for the runner's selftest: aborts halfway (SIGABRT, as a
# sanitizer report or an assert would), before its tally.
. "$(dirname "$0")/../../lib.sh"
check "a check before the abort" true
ulimit -c 0 # no core file
kill -ABRT $$
check "never reached" true
finish
