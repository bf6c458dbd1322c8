#!/bin/bash
# Bash completion (completion/nfcost): commands, options read from the
# binary's own --help, and the value lists of the options.
. "$(dirname "$0")/../lib.sh"

# complete WORDS...: what completing the last word (may be "") offers
complete_words() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_nfcost nfcost "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/completion/nfcost" "$@" 2>/dev/null | sort | tr '\n' ' '
}
PATH="$(dirname "$NFCOST"):$PATH"
export PATH

check_eq "complete -p names the function" "complete -F _nfcost nfcost" \
	"$(bash -c 'source /usr/share/bash-completion/bash_completion; source "$1"; complete -p nfcost' _ "$ROOT/completion/nfcost")"
check_eq "commands" "--help --version cleanup compare compile live profile rules sweep testbed trace watch " \
	"$(complete_words nfcost "")"
check_eq "sweep --backend lists the five backends" \
	"ipset iptables-legacy iptables-nft nft nft-set " "$(complete_words nfcost sweep --backend "")"
check_eq "compare --backends completes after a comma" "nft,ipset nft,iptables-legacy nft,iptables-nft " \
	"$(complete_words nfcost compare --backends nft,ip)"
check_eq "sweep's options come from its --help" "--shape= " "$(complete_words nfcost sweep --sha)"
check_eq "trace --hook offers every hook" "all forward input output postrouting prerouting " \
	"$(complete_words nfcost trace --hook "")"
check_eq "sweep --hook offers the hooks rules fill" "forward input output " \
	"$(complete_words nfcost sweep --hook "")"
check_eq "watch --hook completes a list after a comma" "output,input " \
	"$(complete_words nfcost watch --hook output,in)"
check_eq "testbed actions" "down status up " "$(complete_words nfcost testbed "")"
# every long option of every command's --help is offered
for cmd in testbed rules trace sweep live compare profile watch compile cleanup; do
	want=$("$NFCOST" $cmd --help | grep -oE -- '^ +(-[[:alnum:]?], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | grep -vE -- '--(help|usage|version)$' | sort -u | tr '\n' ' ')
	got=$(complete_words nfcost $cmd -- | tr ' ' '\n' | sed 's/=$//' | grep -vE -- '--(help|usage|version)$' | sort -u | tr '\n' ' ')
	missing=$(comm -23 <(echo "$want" | tr ' ' '\n' | sort -u) <(echo "$got" | tr ' ' '\n' | sort -u) | tr '\n' ' ')
	check_eq "$cmd: every option of its --help is completed" "" "${missing% }"
done
finish
