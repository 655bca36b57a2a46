#!/usr/bin/env bash
# The main job: build flowgate, validate every shipped workflow and draw each one as a diagram.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target flowgate
fg=build/default/tools/flowgate

echo "== validating the shipped workflows"
$fg validate workflows/*.toml

out=build/demo
mkdir -p "$out"
for wf in workflows/*.toml; do
  name=$(basename "$wf" .toml)
  $fg graph "$wf" --format mermaid > "$out/$name.mmd"
  $fg graph "$wf" --format svg > "$out/$name.svg"
  echo "== $name: diagram written to $out/$name.svg (Mermaid source: $out/$name.mmd)"
  cat "$out/$name.mmd"
done
