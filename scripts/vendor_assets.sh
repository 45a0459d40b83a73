#!/usr/bin/env bash
# Re-create web/static/vendor/ (browser libraries served and inlined by geo311) from pinned,
# integrity-checked npm tarballs, plus folium's patched Leaflet.heat build from the folium wheel.
#
# The output is committed: nothing runs this at build, run or test time. Run it only to upgrade:
#   1. edit a version below and its integrity, taken from `npm view NAME@VERSION dist.integrity`
#      (for folium, the wheel's sha256 from `pip download --no-deps folium==X` + `sha256sum`);
#   2. scripts/vendor_assets.sh            # rewrites the asset folders (never the *.md files)
#   3. update web/static/vendor/VENDOR.md (and FOLIUM_OFFLINE.md if folium changed), run the tests.
# `scripts/vendor_assets.sh --check` rebuilds into a temp dir and diffs it against the committed files.
#
# Needs: npm, node (for the sha512 check), a Python with pip (PYTHON, default .venv/bin/python).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$REPO/web/static/vendor"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)"

# name|version|npm dist.integrity
LEAFLET="leaflet|1.9.4|sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
MARKERCLUSTER="leaflet.markercluster|1.5.3|sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA=="
HEAT="leaflet.heat|0.2.0|sha512-Cd5PbAA/rX3X3XKxfDoUGi9qp78FyhWYurFg3nsfhntcM/MCNK08pRkf4iEenO1KNqwVPKCmkyktjW3UD+h9bQ=="
VECTORGRID="leaflet.vectorgrid|1.3.0|sha512-kWmj1pKM+MVdo/7Mg5zsB3YrGZvo/uIuiANV9MvWUFOG+Y2xAJzrteDhoIcCgTjHSSRJ36xdeGdIQVhuWjnCZw=="
AXE="axe-core|4.14.1|sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
# jQuery stays on the 3.x line that folium 0.20 itself loads (3.7.1); only folium output uses it.
JQUERY="jquery|3.7.1|sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg=="

# Libraries compiled into Leaflet.VectorGrid.bundled.min.js, fetched only for their licence texts
# (versions satisfy the ranges leaflet.vectorgrid 1.3.0 declares).
VECTORGRID_BUNDLED=(
  "whatwg-fetch|2.0.3|sha512-SA2KdOXATOroD3EBUYvcdugsusXS5YiQFqwskSbsp5b1gK8HpNi/YP0jcy/BDpdllp305HMnrsVf9K7Be9GiEQ=="
  "pbf|3.0.5|sha512-L22c/RfkjapvB7RfUoFTSQp39hs+1/Eixcc2Ysgl9uWgOeEWvQfdvyL/oi8LTh3lRcnh3rN1NEFM/KSGdqRpZg=="
  "ieee754|1.1.8|sha512-/aoyv2Nt7mGLnCAWzE0C1WH9Xd8ZsqR0f4Pjwxputi1JNm01+InyAYQotF4N+ulEIjbEsJo22NOHr+U/XEZ1Pw=="
  "vector-tile|1.3.0|sha512-ECpYpDhbgTSGIRwaf4bLbiDHcUHDM+LGrBOmV1tdG+Lde8vajJtywP5vGFmMj0Z3cApTV0+9sLWgBCVsRuoAKQ=="
  "point-geometry|0.0.0|sha512-tXK8bY2l3/CPkyO7+UbOWbVjCpKoYY4t6uY3AYYy4Bagd4Z942gLeQOgtHICwBwgPf8dI6fw4VqKwzSNgvlw4A=="
  "topojson-client|2.1.0|sha512-mxXNa6imbsrWXqUKF7iwGl2TkrshZ7dwQF+KuAB4hX9wTmfecNzqSjMmQZNhP2Ztvfwx8rKt0BfQfHF+ki6hQw=="
  "geojson-vt|2.2.0|sha512-mPANq0QJchU6tUxI4Lm/nE1jXLK9Mnojlw4BYojEZwuPrA5b25dS1gGrQmKV+r+jyeBN/j4/yZ0vFzyySNHtAg=="
)

# folium's own copy of Leaflet.heat carries the weights patch (Leaflet.heat PR #78) that its
# HeatMap relies on; npm's leaflet.heat 0.2.0 predates it. Keep in step with pyproject's folium.
FOLIUM_VERSION="0.20.0"
FOLIUM_WHEEL_SHA256="f0bc2a92acde20bca56367aa5c1c376c433f450608d058daebab2fc9bf8198bf"

# Folders under web/static/vendor/ that this script owns (rewritten whole on every run).
OWNED=(leaflet leaflet.markercluster leaflet.heat leaflet.vectorgrid axe-core jquery folium)

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vendor-assets.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

die() { echo "vendor_assets: $*" >&2; exit 1; }

# fetch "name|version|integrity" -> unpacks into $WORK/pkg/<name>/ and prints that directory.
fetch() {
  local name version integrity tgz actual dir
  IFS='|' read -r name version integrity <<<"$1"
  mkdir -p "$WORK/tgz"
  tgz="$(cd "$WORK/tgz" && npm pack --silent --loglevel=error "$name@$version" | tail -n 1)"
  tgz="$WORK/tgz/$tgz"
  [[ -f "$tgz" ]] || die "npm pack $name@$version produced no tarball"
  actual="$(node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  [[ "$actual" == "$integrity" ]] || die "$name@$version integrity mismatch: got $actual"
  dir="$WORK/pkg/$name"
  mkdir -p "$dir"
  tar -xzf "$tgz" -C "$dir" --strip-components=1
  printf '%s\n' "$dir"
}

# put SRC DEST_DIR [NEW_NAME]: copy one file, failing loudly if a package moved it.
put() {
  [[ -f "$1" ]] || die "missing $1"
  mkdir -p "$2"
  cp "$1" "$2/${3:-$(basename "$1")}"
}

build() {
  local out="$1" d f

  d="$(fetch "$LEAFLET")"
  put "$d/dist/leaflet.js" "$out/leaflet"
  put "$d/dist/leaflet.css" "$out/leaflet"
  for f in layers.png layers-2x.png marker-icon.png marker-icon-2x.png marker-shadow.png; do
    put "$d/dist/images/$f" "$out/leaflet/images"
  done
  put "$d/LICENSE" "$out/leaflet"

  d="$(fetch "$MARKERCLUSTER")"
  put "$d/dist/leaflet.markercluster.js" "$out/leaflet.markercluster"
  put "$d/dist/MarkerCluster.css" "$out/leaflet.markercluster"
  put "$d/dist/MarkerCluster.Default.css" "$out/leaflet.markercluster"
  put "$d/MIT-LICENCE.txt" "$out/leaflet.markercluster"

  d="$(fetch "$HEAT")"
  put "$d/dist/leaflet-heat.js" "$out/leaflet.heat"
  put "$d/LICENSE" "$out/leaflet.heat"
  # The folium build below is the same code plus a patch: it ships under the same licence.
  put "$d/LICENSE" "$out/folium" "LICENSE-leaflet.heat"

  d="$(fetch "$VECTORGRID")"
  put "$d/dist/Leaflet.VectorGrid.bundled.min.js" "$out/leaflet.vectorgrid"
  # The npm tarball has no licence file; its README ends with the Beerware notice.
  sed -n '/THE BEER-WARE LICENSE/,/buy me a beer/p' "$d/README.md" >"$out/leaflet.vectorgrid/LICENSE"
  [[ -s "$out/leaflet.vectorgrid/LICENSE" ]] || die "Beerware notice not found in VectorGrid README"
  vectorgrid_third_party >"$out/leaflet.vectorgrid/THIRD-PARTY-LICENSES.txt"

  d="$(fetch "$AXE")"
  put "$d/axe.min.js" "$out/axe-core"
  put "$d/LICENSE" "$out/axe-core"
  put "$d/LICENSE-3RD-PARTY.txt" "$out/axe-core"

  d="$(fetch "$JQUERY")"
  put "$d/dist/jquery.min.js" "$out/jquery"
  put "$d/LICENSE.txt" "$out/jquery"

  folium_heat "$out/folium"
}

vectorgrid_third_party() {
  local spec name version d lic
  echo "Libraries bundled into Leaflet.VectorGrid.bundled.min.js (leaflet.vectorgrid 1.3.0)."
  echo "Licence texts taken from these npm releases by scripts/vendor_assets.sh."
  for spec in "${VECTORGRID_BUNDLED[@]}"; do
    IFS='|' read -r name version _ <<<"$spec"
    d="$(fetch "$spec")"
    printf '\n==== %s %s (%s) ====\n\n' "$name" "$version" \
      "$(node -p 'require(process.argv[1]).license' "$d/package.json")"
    lic="$(find "$d" -maxdepth 1 -type f \( -iname 'LICEN[CS]E*' -o -iname 'COPYING*' \) | head -n 1)"
    if [[ -n "$lic" ]]; then
      cat "$lic"
    else
      echo "(no licence file in the npm tarball; package.json declares the licence above)"
    fi
  done
}

folium_heat() {
  local out="$1" whl
  mkdir -p "$WORK/pypi" "$out"
  printf 'folium==%s --hash=sha256:%s\n' "$FOLIUM_VERSION" "$FOLIUM_WHEEL_SHA256" >"$WORK/pypi/req.txt"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$WORK/pypi/req.txt" -d "$WORK/pypi" 2> >(grep -v "is ignored: it is neither" >&2)
  whl="$(ls "$WORK"/pypi/folium-"$FOLIUM_VERSION"-*.whl)"
  "$PYTHON" - "$whl" "$out" "$FOLIUM_VERSION" <<'PY'
import pathlib
import sys
import zipfile

wheel, out, version = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    (out / "leaflet_heat.min.js").write_bytes(z.read("folium/templates/leaflet_heat.min.js"))
    (out / "LICENSE.txt").write_bytes(z.read(f"folium-{version}.dist-info/licenses/LICENSE.txt"))
PY
}

case "${1:-}" in
  --check)
    build "$WORK/out"
    status=0
    for d in "${OWNED[@]}"; do
      diff -r "$WORK/out/$d" "$VENDOR/$d" || status=1
    done
    ((status == 0)) && echo "vendor_assets: committed files match the pinned releases"
    exit "$status"
    ;;
  "")
    build "$WORK/out"
    for d in "${OWNED[@]}"; do
      rm -rf "${VENDOR:?}/$d"
      mkdir -p "$VENDOR"
      cp -R "$WORK/out/$d" "$VENDOR/$d"
    done
    (cd "$VENDOR" && find "${OWNED[@]}" -type f -print0 | sort -z | xargs -0 ls -l |
      awk '{ total += $5; printf "%9d  %s\n", $5, $9 } END { printf "%9d  total\n", total }')
    ;;
  *)
    die "usage: $0 [--check]"
    ;;
esac
