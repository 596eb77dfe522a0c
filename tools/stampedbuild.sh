# shellcheck shell=bash
# A stamped, staged build of release binaries, sourced by
# tools/controlplane/build.sh and tools/promstack/build.sh.
#
# stamped_begin NAME OUT KEY FILE... takes the output directory's lock (so two
# test runs starting at once build once), and exits the calling script when
# every FILE is in OUT and OUT's stamp holds KEY: a second run is a no-op.
# Otherwise it sets $stage, a fresh directory next to OUT to build into.
# stamped_end then renames the FILEs into OUT and writes the stamp.
#
# Building beside the output and renaming into place works even while a test
# runs the old binary, where overwriting it fails with "text file busy"; the
# stamp is written last so an interrupted build is redone.

stamped_begin() {
	stamped_name=$1
	stamped_out=$2
	stamped_key=$3
	shift 3
	stamped_files=("$@")

	mkdir -p "$stamped_out"
	# Without flock the worst case is building twice.
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$stamped_out/.lock"
		flock 9
	fi

	local f uptodate=true
	for f in "${stamped_files[@]}"; do
		[[ -e "$stamped_out/$f" ]] || uptodate=false
	done
	if $uptodate && [[ -f "$stamped_out/.stamp" && "$(cat "$stamped_out/.stamp")" == "$stamped_key" ]]; then
		echo "$stamped_name: binaries in $stamped_out are up to date"
		exit 0
	fi
	rm -f "$stamped_out/.stamp"

	stage="$stamped_out/.build"
	rm -rf "$stage"
	mkdir -p "$stage"
	stamped_start=$(date +%s)
}

stamped_end() {
	local f
	for f in "${stamped_files[@]}"; do
		mv -f "$stage/$f" "$stamped_out/$f"
	done
	rmdir "$stage"
	echo "$stamped_key" >"$stamped_out/.stamp"
	echo "$stamped_name: done in $(($(date +%s) - stamped_start))s"
}
