#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bundle-binaries.sh OUTDIR [BUILDDIR]
#
# Copies memtided, memtidectl and wake-reference from BUILDDIR (default: build) into OUTDIR,
# every shared library they load (ldd, and libbpf.so.1, which memtided opens with dlopen()) and
# this system's dynamic loader into OUTDIR/lib, so that they run on another machine without
# this one's packages:
#
#   OUTDIR/lib/ld-linux-x86-64.so.2 --library-path OUTDIR/lib OUTDIR/memtided --help
#
# OUTDIR/run.sh NAME ARGS... does that for NAME. Exits 1 with a message when a binary or a
# library is missing.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "usage: $0 OUTDIR [BUILDDIR]" >&2
        exit 2
fi
out=$1
build=${2:-build}
bins=("$build/daemon/memtided" "$build/cli/memtidectl" "$build/tests/bench/wake-reference")

mkdir -p "$out/lib"
for b in "${bins[@]}"; do
        if [ ! -x "$b" ]; then
                echo "$0: $b is not built (ninja -C $build)" >&2
                exit 1
        fi
        cp -L "$b" "$out/"
done

copy_lib() {
        local src=$1
        [ -e "$out/lib/$(basename "$src")" ] || cp -L "$src" "$out/lib/"
}

for b in "${bins[@]}"; do
        # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and the loader's own line "/lib64/ld-linux..."
        while read -r name arrow path _; do
                if [ "$arrow" = "=>" ]; then
                        if [ "$path" = "not" ]; then
                                echo "$0: $b needs $name, which is not found here" >&2
                                exit 1
                        fi
                        copy_lib "$path"
                elif [ -e "$name" ]; then
                        copy_lib "$name"
                fi
        done < <(ldd "$b" | grep -v 'linux-vdso')
done

# memtided opens libbpf.so.1 with dlopen() (it does not link it): bundle it and what it needs
bpf=$(ldconfig -p | awk '/libbpf\.so\.1 .*x86-64/ { print $NF; exit }')
if [ -n "$bpf" ]; then
        copy_lib "$bpf"
        while read -r name arrow path _; do
                [ "$arrow" = "=>" ] && [ "$path" != "not" ] && copy_lib "$path"
        done < <(ldd "$bpf" | grep -v 'linux-vdso')
else
        echo "$0: no libbpf.so.1 here: the bundle's memtided will run without BPF events" >&2
fi

loader=$(ls /lib64/ld-linux-x86-64.so.2 2>/dev/null || ls /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)
copy_lib "$loader"
cat > "$out/run.sh" <<'RUN'
#!/bin/bash
# run.sh NAME ARGS...: a bundled binary with the bundled loader and libraries
here=$(cd "$(dirname "$0")" && pwd)
name=$1
shift
exec "$here/lib/ld-linux-x86-64.so.2" --library-path "$here/lib" "$here/$name" "$@"
RUN
chmod +x "$out/run.sh"
echo "bundled into $out: $(cd "$out" && ls -1 | grep -v '^lib$' | tr '\n' ' ')and $(ls "$out/lib" | wc -l) files in lib/"
