#!/usr/bin/env bash
# Regenerates crates/config/catalogs/flink-<major.minor>.json from Flink's own jars.
#
#   tools/catalog-gen/generate.sh [VERSION...]      e.g. 2.3.0 1.20.3  (default: every version
#                                                   under $FLINKOPS_HOME/flink)
#   OUT_DIR=/tmp/x tools/catalog-gen/generate.sh 2.3.0   write somewhere else (used by the test)
#
# Needs a JDK 17 (javac, jar, java) and the unpacked distributions at $FLINKOPS_HOME/flink/<version>/{lib,opt,plugins}.
# For each version, CatalogGen.java is compiled into a temp dir against that version's flink-dist jar
# and run with every jar of the distribution on its class path: flink-dist first, then lib/ and opt/,
# the planner jar extracted from flink-table-planner-loader (a jar in a jar), then plugins/*/.
# See docs/catalogs.md.
set -euo pipefail
export LC_ALL=C

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
home="${FLINKOPS_HOME:?set FLINKOPS_HOME (Flink distributions under \$FLINKOPS_HOME/flink/<version>)}"
out_dir="${OUT_DIR:-$repo/crates/config/catalogs}"

if [ "$#" -eq 0 ]; then
  mapfile -t versions < <(ls "$home/flink" | sort -V)
else
  versions=("$@")
fi
[ "${#versions[@]}" -gt 0 ] || { echo "no Flink versions under $home/flink" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out_dir"

for v in "${versions[@]}"; do
  dir="$home/flink/$v"
  dist=("$dir"/lib/flink-dist-*.jar)
  [ -f "${dist[0]}" ] || { echo "missing $dir/lib/flink-dist-*.jar" >&2; exit 1; }
  mm="$(echo "$v" | cut -d. -f1-2)"
  classes="$tmp/classes-$v"
  mkdir -p "$classes"
  javac -nowarn -Xlint:none -d "$classes" -cp "${dist[0]}" "$here/CatalogGen.java"
  cp="$classes:${dist[0]}"
  for j in "$dir"/lib/*.jar "$dir"/opt/*.jar; do   # globs sort bytewise (LC_ALL=C)
    [ -f "$j" ] || continue
    case "$j" in */flink-dist-*) ;; *) cp="$cp:$j" ;; esac
  done
  loader=("$dir"/lib/flink-table-planner-loader-*.jar)
  if [ -f "${loader[0]}" ]; then
    mkdir -p "$tmp/planner-$v"
    (cd "$tmp/planner-$v" && jar xf "${loader[0]}" flink-table-planner.jar)
    cp="$cp:$tmp/planner-$v/flink-table-planner.jar"
  fi
  for j in "$dir"/plugins/*/*.jar; do [ -f "$j" ] && cp="$cp:$j"; done
  # Deterministic output whatever the machine: fixed locale, time zone, temp dir and CPU count.
  java -Duser.language=en -Duser.country=US -Duser.timezone=UTC -Djava.io.tmpdir="$tmp" \
    -Dlog4j2.level=OFF -Dlog4j2.statusLoggerLevel=OFF -XX:ActiveProcessorCount=2 -Xmx1g \
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-exports=java.base/sun.net.util=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    -cp "$cp" CatalogGen "$v" "$here/prefixes.json" "$out_dir/flink-$mm.json"
  echo "wrote $out_dir/flink-$mm.json" >&2
done
