// Single-thread encode throughput of HF tokenizers (Rust, 0.22.2, through the N-API binding
// @anush008/tokenizers@0.6.0 from npm) on the same corpus lines as bench_tokenizer, on this machine.
// Install outside the repo:  mkdir -p /tmp/hfrs && cd /tmp/hfrs && npm install @anush008/tokenizers@0.6.0
// Run (rayon pinned to one thread):
//   RAYON_NUM_THREADS=1 node benchmarks/hf_rust_throughput.mjs --modules /tmp/hfrs/node_modules \
//       --cache ~/.cache/uag/tokenizers --out hf_rust.json
// Method: the lines of a kind ("code" / "prose") in corpus order, repeated until >= 1 MB, encoded with one
// encodeBatch call (add_special_tokens = false; each line encoded separately, as bench_tokenizer does);
// best of 3 after a warm-up. Also checks ids against the HF 0.23.2 fixtures for every line.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const arg = (name, dflt) => {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const modules = arg('modules', '/tmp/hfrs/node_modules');
const cache = arg('cache', path.join(process.env.HOME || '.', '.cache/uag/tokenizers'));
const out = arg('out', '');
const names = arg('names', 'llama2,llama3,qwen3,gemma3,gpt4o,deepseek_v3').split(',');
const here = path.dirname(new URL(import.meta.url).pathname);
const data = path.join(here, '..', 'tests', 'data', 'tokenizers');
const require = createRequire(path.join(modules, 'x.js'));
const { Tokenizer } = require('@anush008/tokenizers');

const corpus = fs.readFileSync(path.join(data, 'corpus.jsonl'), 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
const inputs = {};
for (const kind of ['code', 'prose']) {
  const lines = corpus.filter((c) => c.kind === kind).map((c) => c.text);
  const once = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
  const repeat = Math.ceil(1e6 / once);
  inputs[kind] = { list: Array(repeat).fill(lines).flat(), bytes: once * repeat };
}
const result = { binding: '@anush008/tokenizers@0.6.0', tokenizers_rust: '0.22.2', rayon_threads: process.env.RAYON_NUM_THREADS || 'unset', tokenizers: {} };
for (const name of names) {
  const file = path.join(cache, name, 'tokenizer.json');
  const t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(file);
  const load_s = Number(process.hrtime.bigint() - t0) / 1e9;
  // Parity check against the HF 0.23.2 fixtures (same ids expected from 0.22.2).
  const expected = fs.readFileSync(path.join(data, `expected_${name}.jsonl`), 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l).ids);
  const encs = await tok.encodeBatch(corpus.map((c) => c.text), { addSpecialTokens: false });
  let mismatches = 0;
  encs.forEach((e, i) => { if (JSON.stringify(Array.from(e.getIds())) !== JSON.stringify(expected[i])) ++mismatches; });
  const r = { load_s, fixture_mismatches: mismatches };
  for (const kind of ['code', 'prose']) {
    const { list, bytes } = inputs[kind];
    await tok.encodeBatch(list.slice(0, 200), { addSpecialTokens: false });  // warm-up
    let best = Infinity;
    for (let rep = 0; rep < 3; ++rep) {
      const s = process.hrtime.bigint();
      await tok.encodeBatch(list, { addSpecialTokens: false });
      best = Math.min(best, Number(process.hrtime.bigint() - s) / 1e9);
    }
    r[kind + '_MBps'] = bytes / 1e6 / best;
  }
  result.tokenizers[name] = r;
  console.log(name, JSON.stringify(r));
}
if (out) fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
