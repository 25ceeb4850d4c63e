#!/usr/bin/env bash
# Development helper: unpack Flink VERSION's jars from PyPI into $FLINKOPS_HOME/flink/VERSION
# (the same layout `flinkops flink install` produces: bin/ lib/ opt/ plugins/).
set -euo pipefail
v=${1:?usage: fetch-flink.sh VERSION}
home=${FLINKOPS_HOME:?set FLINKOPS_HOME}
dest="$home/flink/$v"
[ -f "$dest/lib/flink-dist-$v.jar" ] && exit 0
mkdir -p "$home/flink"
tmp=$(mktemp -d "$home/flink/.fetch-$v.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps "apache-flink-libraries==$v" -d "$tmp/dl"
mkdir -p "$tmp/x"
f=$(ls "$tmp"/dl/*)
case "$f" in
  *.whl) python3 -m zipfile -e "$f" "$tmp/x" ;;   # 2.x: a wheel with pyflink/{bin,lib,opt,plugins}
  *.tar.gz) tar xzf "$f" -C "$tmp/x" ;;          # 1.x: an sdist with */deps/{bin,lib,opt,plugins}
esac
root=$(dirname "$(dirname "$(find "$tmp/x" -name "flink-dist-$v.jar" | head -1)")")
mv "$root" "$tmp/dist"
rm -rf "$dest"; mv "$tmp/dist" "$dest"
echo "$dest"
