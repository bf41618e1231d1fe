# Shared by compare.sh and compare_scale.sh (sourced, not run).

# need_tools SCRIPT TOOL...: exits 2 unless every TOOL is on PATH.
need_tools() {
    local script="$1" tool
    shift
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "$script: $tool not found on PATH" >&2
            exit 2
        fi
    done
}

# build_rust_dump REPO WORK: builds bench/peers/rust-dump against the
# checkout REPO in the temp dir WORK (nothing is built or locked inside the
# repository; set AUTHRACE_DUMP_TARGET to reuse a cargo target directory)
# and sets `dump` to the binary.
build_rust_dump() {
    local repo="$1" work="$2"
    cp -r "$repo/bench/peers/rust-dump" "$work/rust-dump"
    sed -i "s|path = \"../../..\"|path = \"$repo\"|" "$work/rust-dump/Cargo.toml"
    cp "$repo/Cargo.lock" "$work/rust-dump/Cargo.lock"
    local target="${AUTHRACE_DUMP_TARGET:-$work/target}"
    (cd "$work/rust-dump" && CARGO_TARGET_DIR="$target" cargo build --release --quiet --offline 2>"$work/cargo.log" ||
        CARGO_TARGET_DIR="$target" cargo build --release --quiet) || {
        cat "$work/cargo.log" >&2
        exit 1
    }
    dump="$target/release/rust-dump"
}
