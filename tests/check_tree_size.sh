#!/usr/bin/env bash
# usage: check_tree_size.sh SOURCE_DIR LIMIT_MIB
# Fails when the files git tracks in SOURCE_DIR add up to more than LIMIT_MIB, listing the largest ones.
# Skips (exit 77) when SOURCE_DIR is not a git work tree (a source tarball, an installed copy).
set -euo pipefail
src="$1"
limit_mib="$2"
if ! git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check_tree_size: '$src' is not a git work tree: skipped"
  exit 77
fi
total=0
while IFS= read -r -d '' f; do
  [[ -f "$src/$f" ]] && total=$((total + $(stat -c %s "$src/$f")))
done < <(git -C "$src" ls-files -z)
limit=$((limit_mib * 1048576))
awk -v t="$total" -v l="$limit_mib" 'BEGIN { printf "check_tree_size: tracked tree %.1f MiB (limit %d MiB)\n", t / 1048576, l }'
if ((total > limit)); then
  echo "check_tree_size: over the limit; largest tracked files:"
  git -C "$src" ls-files -z | xargs -0 -I{} stat -c '%s {}' "$src/{}" 2>/dev/null | sort -rn | head -10
  exit 1
fi
