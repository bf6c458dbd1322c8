#!/bin/bash
# The man page covers everything: every long option that a command's --help
# lists appears in docs/nfcost.8, every command has a section with an
# example, and the page has its OVERHEAD and FILES sections.
. "$(dirname "$0")/../lib.sh"
MAN="$ROOT/docs/nfcost.8"
# The page as text, one line per source line (groff is not needed).
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MAN")

for cmd in testbed rules trace sweep live compare profile watch compile cleanup; do
	opts=$("$NFCOST" $cmd --help | grep -oE -- '^ +(-[[:alnum:]?], )?--[a-z][a-z-]*' |
		grep -oE -- '--[a-z-]+' | grep -vE -- '^--(help|usage|version)$' | sort -u)
	missing=""
	for o in $opts; do
		grep -qF -- "$o" <<<"$text" || missing="$missing $o"
	done
	check_eq "nfcost.8 names every option of '$cmd --help'" "" "${missing# }"
	# The section: a .SS line naming the command, and an example under it.
	section=$(awk -v c="$cmd" '/^\.SS/ { on = ($0 ~ "^\\.SS \"?(nfcost )?" c "( |$)") } on' "$MAN")
	check "nfcost.8 has a section for $cmd" test -n "$section"
	check "the $cmd section has an example" grep -qE "^(\\.EX|nfcost $cmd|.*nfcost $cmd )" <<<"$section"
done
for s in OVERHEAD FILES EXIT\ STATUS EXAMPLES; do
	check "nfcost.8 has a $s section" grep -qE "^\\.SH \"?$s\"?" "$MAN"
done
finish
