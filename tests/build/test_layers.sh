#!/usr/bin/env bash
# The layers point one way (docs/ARCHITECTURE.md): a folder of src/ may
# include its own headers and those of the layers below it, never one
# above.  From the bottom: core; wire; net; tcp; sock; stack (which sees
# them all).  link and run sit beside the stack and use the public API
# (include/synack) and the core's primitives only.  Every #include "..." of
# every file under src/ is checked; a violation is named with its file and
# line.  The rule is checked on the sources, so it cannot pass vacuously:
# the test fails when it finds no files.
# Usage: test_layers.sh SRC_DIR
set -u
src=${1:?usage: test_layers.sh SRC_DIR}
# What each folder may include (besides itself and synack/, the public API).
allowed() {
	case "$1" in
	core) echo "" ;;
	wire) echo "core" ;;
	net) echo "core wire" ;;
	tcp) echo "core wire net" ;;
	sock) echo "core wire net tcp" ;;
	stack) echo "core wire net tcp sock" ;;
	link) echo "core" ;;
	run) echo "" ;;
	*) echo "?" ;;
	esac
}
files=0
bad=0
for f in "$src"/*/*.[ch]; do
	[ -e "$f" ] || continue
	files=$((files + 1))
	layer=$(basename "$(dirname "$f")")
	ok=$(allowed "$layer")
	if [ "$ok" = "?" ]; then
		echo "FAIL: $f: src/$layer is a folder this test does not know (add it to allowed())" >&2
		bad=$((bad + 1))
		continue
	fi
	while IFS=: read -r line inc; do
		dir=${inc%%/*}
		case " $layer synack $ok " in
		*" $dir "*) ;;
		*)
			echo "FAIL: $f:$line includes $inc: src/$layer may include only itself, synack/ and: ${ok:-nothing else}" >&2
			bad=$((bad + 1))
			;;
		esac
	done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):#include "\([^"]*\)".*/\1:\2/')
done
if [ "$files" -eq 0 ]; then
	echo "FAIL: no sources under $src" >&2
	exit 1
fi
echo "checked $files files"
if [ "$bad" -eq 0 ]; then
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed ($bad includes against the layers)"
	exit 1
fi
