// Same-machine reference throughput: @huggingface/tokenizers (Tokenizers.js, pure JS) on the corpus inputs
// used by tests/data/tokenizers/gen_expected.py, so that uag's C++ tokenizer can be compared with an HF
// implementation on THIS machine (the Rust/Python `tokenizers` exists only on the device machine).
//
// setup (node_modules outside the repo; nothing is committed):
//   mkdir -p /tmp/oracle && (cd /tmp/oracle && npm init -y >/dev/null && npm install @huggingface/tokenizers@0.2.0)
//   tests/data/tokenizers/fetch_tokenizers.sh
// run:
//   node benchmarks/hf_js_throughput.mjs [--oracle /tmp/oracle] [--cache DIR] [--names a,b] [--reps N]
//                                        [--out FILE.json]
// Inputs, per kind K in {code, prose}: texts of corpus.jsonl lines with kind == K, in corpus order, the list
// repeated `repeat` times (smallest count giving >= 1,000,000 UTF-8 bytes). "per_line" encodes each element
// with add_special_tokens=false; "blob" encodes "\n".join(list) once. One untimed warm-up per mode; MB/s =
// bytes / 1e6 / seconds, best and median of --reps. Also reports load time (JSON.parse + constructor) and,
// for information, how many corpus lines give ids equal to HF `tokenizers` (expected_<name>.jsonl "ids").
// JS is single-threaded, so no thread settings are needed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.resolve(here, "..", "tests", "data", "tokenizers");
const NAMES = ["llama2", "llama3", "qwen3", "gemma3", "gpt4o", "deepseek_v3"];
const KINDS = ["code", "prose"];
const BENCH_BYTES = 1_000_000;

function parseArgs(argv) {
  const a = {
    oracle: "/tmp/oracle",
    cache: process.env.UAG_TOKENIZER_CACHE || path.join(os.homedir(), ".cache", "uag", "tokenizers"),
    names: NAMES.join(","),
    reps: 5,
    out: "",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    if (!(k in a) || i + 1 >= argv.length) {
      console.error(`usage: node hf_js_throughput.mjs [--oracle DIR] [--cache DIR] [--names a,b] [--reps N] [--out F]`);
      process.exit(2);
    }
    a[k] = k === "reps" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return a;
}

function readJsonl(file) {
  const raw = fs.readFileSync(file, "utf8");
  const lines = raw.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => JSON.parse(l));
}

const utf8Bytes = (s) => Buffer.byteLength(s, "utf8");

function timeRuns(fn, reps) {
  const ts = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return ts;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function cpuModel() {
  const cpus = os.cpus();
  return cpus.length ? cpus[0].model : "unknown";
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const modPath = path.join(args.oracle, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.mjs");
  if (!fs.existsSync(modPath)) {
    console.error(`hf_js_throughput: error: ${modPath} not found; install it first (see the header of this file)`);
    process.exit(1);
  }
  const { Tokenizer } = await import(pathToFileURL(modPath).href);
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(path.dirname(modPath)), "package.json"), "utf8"));
  const corpus = readJsonl(path.join(dataDir, "corpus.jsonl"));
  const texts = corpus.map((r) => r.text);

  const inputs = {};
  for (const kind of KINDS) {
    const lines = corpus.filter((r) => r.kind === kind).map((r) => r.text);
    const once = lines.reduce((n, t) => n + utf8Bytes(t), 0);
    const repeat = Math.ceil(BENCH_BYTES / once);
    const all = [];
    for (let r = 0; r < repeat; r++) all.push(...lines);
    inputs[kind] = { lines: all, blob: all.join("\n"), meta: { lines: lines.length, bytes_once: once, repeat, bytes_total: once * repeat } };
  }

  const result = {
    implementation: `${pkg.name}@${pkg.version}`,
    node: process.version,
    cpu_model: cpuModel(),
    cpu_count: os.cpus().length,
    method: "see header of benchmarks/hf_js_throughput.mjs (same inputs as gen_expected.py)",
    inputs: Object.fromEntries(KINDS.map((k) => [k, inputs[k].meta])),
    tokenizers: {},
  };
  for (const name of args.names.split(",").filter(Boolean)) {
    const dir = path.join(args.cache, name);
    const jsonPath = path.join(dir, "tokenizer.json");
    if (!fs.existsSync(jsonPath)) {
      console.error(`hf_js_throughput: error: ${jsonPath} missing; run tests/data/tokenizers/fetch_tokenizers.sh`);
      process.exit(1);
    }
    const cfgPath = path.join(dir, "tokenizer_config.json");
    const load = () => new Tokenizer(JSON.parse(fs.readFileSync(jsonPath, "utf8")),
      fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, "utf8")) : {});
    let tok;
    const entry = {};
    try {
      const lt = timeRuns(() => { tok = load(); }, 3);
      entry.load_s = { best: Math.min(...lt), median: median(lt), reps: 3 };
    } catch (e) {
      entry.error = `load failed: ${e.message}`;
      result.tokenizers[name] = entry;
      console.log(`${name}: ${entry.error}`);
      continue;
    }
    // parity with HF tokenizers (information only)
    const expPath = path.join(dataDir, `expected_${name}.jsonl`);
    if (fs.existsSync(expPath)) {
      const exp = readJsonl(expPath);
      let same = 0, errors = 0;
      texts.forEach((t, i) => {
        try {
          const ids = tok.encode(t, { add_special_tokens: false }).ids;
          if (ids.length === exp[i].ids.length && ids.every((v, j) => v === exp[i].ids[j])) same++;
        } catch { errors++; }
      });
      entry.parity = { lines: texts.length, ids_equal_to_hf: same, encode_errors: errors };
    }
    for (const kind of KINDS) {
      const { lines, blob } = inputs[kind];
      const nbLines = lines.reduce((n, t) => n + utf8Bytes(t), 0);
      const modes = {
        per_line: [() => { for (const t of lines) tok.encode(t, { add_special_tokens: false }); }, nbLines],
        blob: [() => tok.encode(blob, { add_special_tokens: false }), utf8Bytes(blob)],
      };
      entry[kind] = {};
      for (const [mode, [fn, nbytes]] of Object.entries(modes)) {
        try {
          fn(); // warm-up
          const ts = timeRuns(fn, args.reps);
          entry[kind][mode] = { mb_per_s_best: nbytes / 1e6 / Math.min(...ts), mb_per_s_median: nbytes / 1e6 / median(ts), bytes: nbytes, reps: args.reps };
        } catch (e) {
          entry[kind][mode] = { error: e.message };
        }
      }
    }
    result.tokenizers[name] = entry;
    const fmt = (v) => (v && v.mb_per_s_best !== undefined ? v.mb_per_s_best.toFixed(2) : "err");
    console.log(`${name}: load ${(entry.load_s.best * 1e3).toFixed(0)} ms; ` +
      KINDS.map((k) => `${k} per_line ${fmt(entry[k].per_line)} blob ${fmt(entry[k].blob)} MB/s`).join("; ") +
      (entry.parity ? `; ids == HF on ${entry.parity.ids_equal_to_hf}/${entry.parity.lines} lines` : ""));
  }
  const json = JSON.stringify(result, null, 1) + "\n";
  if (args.out) fs.writeFileSync(args.out, json);
  else process.stdout.write(json);
}

main().catch((e) => { console.error(`hf_js_throughput: error: ${e.stack || e}`); process.exit(1); });
