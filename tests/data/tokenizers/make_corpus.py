#!/usr/bin/env python3
"""Generate tests/data/tokenizers/corpus.jsonl, the tokenizer parity corpus (issue 3).

usage: python3 make_corpus.py [--out PATH] [--seed N]

Deterministic (fixed seed, python3 stdlib only). Every output line is one JSON object
{"text": "...", "kind": "..."}; the C++ side reads only "text", "kind" lets benchmarks pick lines:
  code        source code (Python, C++, Rust, JS/TS, Go, SQL, shell, HTML, JSON, YAML, CSS, Java)
  prose       natural-language text in many scripts (>= 10 scripts)
  emoji       emoji, ZWJ sequences, skin tones, flags, keycaps, variation selectors
  unicode     combining marks, NFC vs NFD pairs, astral planes, compatibility forms, bidi marks
  whitespace  runs of spaces/tabs/newlines, CR/LF, leading/trailing blanks
  control     C0/C1 controls, DEL, U+0085, U+2028/2029, BOM, NUL
  long        very long words, numbers and repeated runs (hundreds of chars)
  contraction English contractions in every letter case
  special     strings that look like (or are) special/added tokens, partial and adjacent variants
  edge        empty string, single characters, tiny inputs
  mixed       random combinations of everything above
Only valid Unicode scalar values are ever produced (no lone surrogates): each text is checked with
text.encode("utf-8") before writing. U+2028/U+2029/U+0085 are written as \\u escapes so that no
line splitter can break a JSON line.
"""
import argparse
import json
import random
import sys
import unicodedata

# ----------------------------------------------------------------------------------------------
# Prose: hand-written sentences, grouped by language. Several per language so that random
# combinations give many distinct lines.
# ----------------------------------------------------------------------------------------------
PROSE = {
    "en": [
        "The quick brown fox jumps over the lazy dog.",
        "It was the best of times, it was the worst of times.",
        "Speculative decoding lets a small model propose tokens that a large model then verifies.",
        "Please don't forget to bring your umbrella; the forecast says it'll rain after 3 p.m.",
        "In 1969, Apollo 11 landed on the Moon, and Neil Armstrong stepped out at 02:56 UTC.",
        "She sells sea-shells by the sea-shore, or so they say.",
        "Dr. Smith's office is at 221B Baker St., London NW1 6XE.",
        "Are you sure? Yes! Absolutely... well, maybe not.",
        "The invoice totals $1,234.56 (incl. 20% VAT) and is due on 2024-07-01.",
        "We tested 3 models x 4 datasets = 12 runs; each took ~45 min.",
        "\"Hello,\" he said, 'how are you doing today?'",
        "E-mail me at john.doe+test@example.com or call +1 (555) 010-9999.",
        "Tokenizers split text into pieces; the pieces map to integer ids.",
        "A journey of a thousand miles begins with a single step.",
        "THE END OF THE WORLD AS WE KNOW IT (AND I FEEL FINE)",
        "i think therefore i am, said descartes, probably in latin.",
    ],
    "fr": [
        "Le cœur a ses raisons que la raison ne connaît point.",
        "Où est la bibliothèque ? Elle est à côté de l'église.",
        "L'été dernier, nous sommes allés à Besançon et à Orléans.",
        "Ça m'a coûté très cher, mais ça en valait la peine !",
        "Les élèves français étudient l'histoire, la géographie et les mathématiques.",
    ],
    "de": [
        "Die Straße ist nass, weil es gestern geregnet hat.",
        "Größere Mäuse fürchten sich nicht vor übermütigen Katzen.",
        "Donaudampfschifffahrtsgesellschaftskapitän ist ein langes Wort.",
        "Können Sie mir bitte sagen, wie spät es ist?",
        "Ich hätte gern ein Stück Käsekuchen und einen Kaffee.",
    ],
    "es": [
        "¿Dónde está el baño? ¡Necesito ayuda, por favor!",
        "El niño comió piña y jamón en la mañana del sábado.",
        "En un lugar de la Mancha, de cuyo nombre no quiero acordarme.",
        "La pingüina pidió un cóctel de maracuyá.",
    ],
    "pt": [
        "A população da região aumentou três vezes na última década.",
        "Não há nada mais bonito do que o pôr do sol em São Paulo.",
        "Você já comeu pão de queijo com café?",
    ],
    "it": [
        "Perché non vieni con noi a Firenze la settimana prossima?",
        "La città è bellissima, soprattutto d'estate.",
    ],
    "pl": [
        "Zażółć gęślą jaźń, to zdanie zawiera wszystkie polskie znaki.",
        "Chrząszcz brzmi w trzcinie w Szczebrzeszynie.",
    ],
    "cs": [
        "Příliš žluťoučký kůň úpěl ďábelské ódy.",
        "Dobrý den, jak se máte? Děkuji, dobře.",
    ],
    "tr": [
        "İstanbul'da yaşayan çocuklar ılık bir günde denize girdi.",
        "Şişli'deki büyük ağaçların gölgesinde oturduk.",
        "Pijamalı hasta yağız şoföre çabucak güvendi.",
    ],
    "vi": [
        "Tiếng Việt có nhiều dấu thanh: sắc, huyền, hỏi, ngã, nặng.",
        "Hà Nội là thủ đô của nước Cộng hòa Xã hội Chủ nghĩa Việt Nam.",
        "Tôi muốn ăn phở bò và uống cà phê sữa đá.",
    ],
    "is": [
        "Þú ert að lesa íslenskan texta með ð og þ.",
        "Sæll og blessaður, hvað segirðu gott?",
    ],
    "ro": ["Știința și tehnologia învață împreună în România."],
    "hu": ["Árvíztűrő tükörfúrógép és őszi ünnep."],
    "ru": [
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
        "Москва — столица России, крупнейший город страны.",
        "Я не знаю, что сказать; всё это очень странно!",
        "В чащах юга жил бы цитрус? Да, но фальшивый экземпляр!",
        "Программирование на C++ требует внимательности.",
    ],
    "uk": [
        "Чуєш їх, доцю, га? Кумедна ж ти, прощайся без ґольфів!",
        "Київ — столиця України, місто на Дніпрі.",
    ],
    "sr": ["Љубазни фењерџија чађавог лица хоће да ми покаже штос."],
    "bg": ["Жълтата дюля беше щастлива, че пухът, който цъфна, замръзна като гьон."],
    "el": [
        "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
        "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
        "Γειά σου, κόσμε! Τι κάνεις σήμερα;",
        "Ἐν ἀρχῇ ἦν ὁ λόγος, καὶ ὁ λόγος ἦν πρὸς τὸν θεόν.",
    ],
    "ar": [
        "مرحبا بالعالم! كيف حالك اليوم؟",
        "اللغة العربية من أكثر اللغات انتشارا في العالم.",
        "ذهبتُ إلى المكتبة واشتريتُ كتابًا جديدًا عن التاريخ.",
        "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ",
        "العدد ١٢٣٤٥ مكتوب بالأرقام العربية الشرقية.",
    ],
    "fa": [
        "سلام دنیا! امروز هوا خیلی خوب است.",
        "کتاب‌های فارسی را با نیم‌فاصله می‌نویسیم.",
    ],
    "ur": ["اردو ایک خوبصورت زبان ہے۔"],
    "he": [
        "שלום עולם! מה שלומך היום?",
        "ירושלים היא עיר עתיקה עם היסטוריה ארוכה.",
        "בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ.",
    ],
    "hi": [
        "नमस्ते दुनिया! आप कैसे हैं?",
        "भारत एक विशाल और विविधतापूर्ण देश है।",
        "मैं हर सुबह चाय पीता हूँ और अख़बार पढ़ता हूँ।",
        "क्षत्रिय, ज्ञान और श्रृंगार जैसे शब्दों में संयुक्ताक्षर होते हैं।",
    ],
    "mr": ["महाराष्ट्राची राजधानी मुंबई आहे."],
    "ne": ["नेपालमा हिमालयका धेरै अग्ला चुचुराहरू छन्।"],
    "bn": [
        "আমি বাংলায় গান গাই।",
        "ঢাকা বাংলাদেশের রাজধানী।",
    ],
    "ta": [
        "வணக்கம் உலகம்! நீங்கள் எப்படி இருக்கிறீர்கள்?",
        "தமிழ் ஒரு பழமையான மொழி.",
    ],
    "te": ["తెలుగు భాష చాలా మధురమైనది."],
    "gu": ["ગુજરાતી ભાષા સુંદર છે."],
    "pa": ["ਪੰਜਾਬੀ ਗੁਰਮੁਖੀ ਲਿਪੀ ਵਿੱਚ ਲਿਖੀ ਜਾਂਦੀ ਹੈ।"],
    "th": [
        "สวัสดีชาวโลก วันนี้อากาศดีมาก",
        "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
        "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย",
        "ฉันชอบกินข้าวเหนียวมะม่วงมากที่สุด",
    ],
    "lo": ["ສະບາຍດີ ພາສາລາວ"],
    "km": ["សួស្តី​ពិភពលោក ភាសាខ្មែរ"],
    "my": ["မင်္ဂလာပါ ကမ္ဘာလောက"],
    "zh": [
        "你好，世界！今天天气很好。",
        "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。",
        "我们在北京大学学习中文和计算机科学。",
        "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
        "这个分词器的速度比参考实现快一点五倍。",
        "請問，臺灣的捷運站在哪裡？",
        "繁體中文與簡體中文有許多不同的字形。",
    ],
    "ja": [
        "こんにちは、世界！今日はいい天気ですね。",
        "東京は日本の首都で、人口が非常に多い都市です。",
        "吾輩は猫である。名前はまだ無い。",
        "カタカナとひらがなと漢字を混ぜて書きます。",
        "ｶﾀｶﾅの半角文字もときどき使われます。",
        "コンピューターでプログラミングを勉強しています。",
    ],
    "ko": [
        "안녕하세요, 세계! 오늘 날씨가 정말 좋네요.",
        "서울은 대한민국의 수도입니다.",
        "한국어는 한글로 쓰며, 한글은 세종대왕이 만들었습니다.",
        "저는 매일 아침 커피를 마셔요.",
    ],
    "ka": [
        "გამარჯობა, მსოფლიო! როგორ ხარ?",
        "თბილისი საქართველოს დედაქალაქია.",
    ],
    "hy": [
        "Բարեւ աշխարհ։ Ինչպե՞ս ես։",
        "Երեւանը Հայաստանի մայրաքաղաքն է։",
    ],
    "am": ["ሰላም ለዓለም! አማርኛ በግዕዝ ፊደል ይጻፋል።"],
    "si": ["ආයුබෝවන් ලෝකය"],
    "mn": ["Монгол хэл кирилл үсгээр бичигддэг."],
    "bo": ["བོད་ཡིག་ནི་ཡི་གེ་ཞིག་ཡིན།"],
    "chr": ["ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ"],
}

# ----------------------------------------------------------------------------------------------
# Code: hand-written snippets. Identifiers in {braces} are substituted per sample.
# ----------------------------------------------------------------------------------------------
CODE = {
    "python": [
        '''def {f}(xs: list[int], k: int = {n}) -> list[int]:
    """Return the {n} largest items of xs, sorted descending."""
    if k <= 0:
        return []
    return sorted(xs, reverse=True)[:k]
''',
        '''class {T}:
    def __init__(self, path, *, verbose=False):
        self.path = path
        self._cache = {{}}
        self.verbose = verbose

    def __repr__(self):
        return f"{T}(path={{self.path!r}})"
''',
        '''import json, os, sys
from collections import defaultdict

with open(os.path.join(sys.argv[1], "{v}.json"), encoding="utf-8") as fh:
    data = json.load(fh)
counts = defaultdict(int)
for row in data["rows"]:
    counts[row["{v}"]] += 1
print(max(counts.items(), key=lambda kv: kv[1]))
''',
        '''async def {f}(session, url):
    async with session.get(url, timeout={n}) as resp:
        resp.raise_for_status()
        return await resp.json()
''',
        '''try:
    {v} = int(input("n? "))
except ValueError as e:
    print(f"bad input: {{e}}", file=sys.stderr)
    raise SystemExit(2)
''',
        '''@dataclass(frozen=True)
class {T}:
    name: str
    size: int = {n}
    tags: tuple[str, ...] = ()
''',
        '''{v} = [x ** 2 for x in range({n}) if x % 3 == 0]
assert {v}[-1] == max({v}), "{v} must be sorted"
''',
        '''if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="{f}")
    ap.add_argument("--{v}", type=float, default=0.{n})
    args = ap.parse_args()
''',
    ],
    "cpp": [
        '''#include <vector>
#include <string_view>

namespace {ns} {{
template <typename T>
[[nodiscard]] inline T {f}(const std::vector<T>& xs) noexcept {{
    T acc{{}};
    for (const auto& x : xs) acc += x;  // sum
    return acc;
}}
}}  // namespace {ns}
''',
        '''struct {T} {{
    std::uint32_t id = 0;
    std::string name_;
    explicit {T}(std::string n) : name_(std::move(n)) {{}}
    auto operator<=>(const {T}&) const = default;
}};
''',
        '''int main(int argc, char** argv) {{
    if (argc < 2) {{
        std::fprintf(stderr, "usage: %s FILE\\n", argv[0]);
        return 1;
    }}
    std::ifstream in(argv[1], std::ios::binary);
    std::string {v}((std::istreambuf_iterator<char>(in)), {{}});
    std::cout << {v}.size() << '\\n';
}}
''',
        '''for (std::size_t i = 0; i < {v}.size(); ++i) {{
    if ({v}[i] == '\\0') break;
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>({v}[i])));
}}
''',
        '''Eigen::MatrixXf wq = Eigen::MatrixXf::Zero({n}, 64);  // (n_heads*head_dim, hidden)
auto logits = (wq * x).eval();
const float m = logits.maxCoeff();
''',
        '''#pragma once
#define UAG_{T}_MAX {n}
static_assert(sizeof(void*) == 8, "64-bit only");
constexpr auto {v} = std::array{{1, 2, 3, {n}}};
''',
        '''std::unique_ptr<{T}> p = std::make_unique<{T}>("{v}");
std::sort(xs.begin(), xs.end(), [](auto& a, auto& b) {{ return a.score > b.score; }});
''',
    ],
    "rust": [
        '''fn {f}(input: &str) -> Result<Vec<u32>, Box<dyn std::error::Error>> {{
    input
        .split_whitespace()
        .map(|s| s.parse::<u32>().map_err(|e| e.into()))
        .collect()
}}
''',
        '''#[derive(Debug, Clone, PartialEq)]
pub struct {T}<'a> {{
    pub name: &'a str,
    pub weight: f32,
}}

impl<'a> {T}<'a> {{
    pub fn new(name: &'a str) -> Self {{ Self {{ name, weight: {n}.0 }} }}
}}
''',
        '''let mut {v}: HashMap<String, usize> = HashMap::new();
for w in text.split(' ') {{
    *{v}.entry(w.to_owned()).or_insert(0) += 1;
}}
println!("{{:?}}", {v});
''',
        '''match {v} {{
    Some(x) if x > {n} => println!("big {{x}}"),
    Some(_) => {{}}
    None => return Err(anyhow!("missing")),
}}
''',
    ],
    "js": [
        '''export async function {f}(url, opts = {{}}) {{
  const res = await fetch(url, {{ method: "POST", ...opts }});
  if (!res.ok) throw new Error(`HTTP ${{res.status}}`);
  return res.json();
}}
''',
        '''const {v} = [1, 2, 3, {n}].map((x) => x * 2).filter((x) => x !== 4);
console.log({v}?.length ?? 0, typeof {v} === "object");
''',
        '''class {T} extends EventEmitter {{
  #count = 0;
  constructor(name) {{ super(); this.name = name; }}
  inc() {{ this.#count++; this.emit("change", this.#count); }}
}}
''',
        '''interface {T} {{
  id: number;
  label?: string;
  children: Array<{T}>;
}}
function walk(n: {T}, depth = 0): void {{ n.children.forEach((c) => walk(c, depth + 1)); }}
''',
        '''document.querySelectorAll("a[href^='http']").forEach(el => {{
  el.setAttribute("target", "_blank"); // open external links in new tab
}});
''',
    ],
    "go": [
        '''package main

import (
	"fmt"
	"os"
)

func {f}(xs []int) (sum int, err error) {{
	for _, x := range xs {{
		if x < 0 {{
			return 0, fmt.Errorf("negative value %d", x)
		}}
		sum += x
	}}
	return sum, nil
}}
''',
        '''type {T} struct {{
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
}}

func (t *{T}) String() string {{ return fmt.Sprintf("%s=%d", t.Name, t.Count) }}
''',
        '''ch := make(chan int, {n})
go func() {{
	defer close(ch)
	for i := 0; i < {n}; i++ {{
		ch <- i
	}}
}}()
''',
    ],
    "java": [
        '''public final class {T} implements Comparable<{T}> {{
    private final int value;
    public {T}(int value) {{ this.value = value; }}
    @Override public int compareTo({T} o) {{ return Integer.compare(value, o.value); }}
}}
''',
    ],
    "sql": [
        '''SELECT u.id, u.name, COUNT(o.id) AS n_orders
FROM users AS u
LEFT JOIN orders AS o ON o.user_id = u.id
WHERE u.created_at >= '2024-01-01' AND u.{v} IS NOT NULL
GROUP BY u.id, u.name
HAVING COUNT(o.id) > {n}
ORDER BY n_orders DESC
LIMIT 10;
''',
        '''CREATE TABLE IF NOT EXISTS {v} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL DEFAULT '',
    score REAL CHECK (score >= 0)
);
INSERT INTO {v} (title, score) VALUES ('it''s ok', {n}.5);
''',
        '''WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < {n})
SELECT SUM(n) FROM t;  -- triangular number
''',
    ],
    "shell": [
        '''#!/usr/bin/env bash
set -euo pipefail
for f in "${{@:-*.txt}}"; do
  [[ -f "$f" ]] || continue
  wc -l "$f" | awk '{{print $1}}' >> /tmp/{v}.log 2>&1
done
''',
        '''cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build -j{n}
ctest --test-dir build --output-on-failure -R '{v}_test'
''',
        '''export PATH="$HOME/.local/bin:$PATH"
if [ -z "${{{V}:-}}" ]; then echo "{V} unset" >&2; exit 1; fi
grep -rn --include='*.cpp' 'TODO' src/ | sed -e 's/:.*//' | sort -u
''',
        '''find . -name '*.json' -print0 | xargs -0 -n1 -P{n} jq -c '.items[] | select(.ok == true)'
''',
    ],
    "html": [
        '''<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{T} &amp; friends</title></head>
<body>
  <h1 class="title">Hello, &lt;world&gt;!</h1>
  <p>Price: &euro;{n} &mdash; <a href="https://example.com/?q={v}&amp;p=2">link</a></p>
  <table><tr><th>a</th><td>b</td></tr></table>
  <br/><hr/><sup>2</sup><sub>i</sub>
</body>
</html>
''',
        '''<div id="{v}" style="display:none" data-count="{n}">
	<ul>
		<li><strong>bold</strong> and <em>italic</em></li>
		<li><code>x &lt; y</code></li>
	</ul>
</div>
''',
    ],
    "css": [
        '''.{v} > a:hover, #{v}::before {{
  color: #ff{n}aa;
  margin: 0 auto !important;
  font-family: "Fira Code", monospace;
}}
@media (max-width: {n}px) {{ .{v} {{ display: none; }} }}
''',
    ],
    "json": [
        '''{{"name": "{v}", "version": "1.{n}.0", "dependencies": {{"left-pad": "^1.3.0"}}, "private": true}}
''',
        '''{{
  "model": {{"type": "BPE", "dropout": null, "unk_token": "<unk>", "vocab": {{"a": 0, "b": 1}}}},
  "added_tokens": [{{"id": {n}, "content": "<|{v}|>", "special": true}}],
  "nested": [[1, 2.5e-3, -0.0], {{"k": "v\\u00e9"}}, true, false, null]
}}
''',
    ],
    "yaml": [
        '''name: ci
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: ./.ci/run {v} --jobs {n}
''',
    ],
}

IDENTS = ["foo", "bar", "baz", "qux", "tokenize", "encode_batch", "merge_pairs", "draft_model",
          "target", "logits", "kv_cache", "x", "y2", "i", "camelCaseName", "snake_case_name",
          "SCREAMING_CASE", "_private", "__dunder__", "data2vec", "utf8Decode", "HTTPServer",
          "parseJSON", "getHTTPResponseCode", "ÄpfelZähler", "名前", "переменная", "λ"]
TYPES = ["Tokenizer", "Vocab", "MergeTable", "Point3D", "HttpClient", "BPEModel", "AssistedGenerator",
         "TokenizerBridge", "Config", "Node", "TreeNode", "LRUCache"]

# ----------------------------------------------------------------------------------------------
# Emoji and other Unicode material.
# ----------------------------------------------------------------------------------------------
EMOJI_BASIC = ["😀", "😂", "🥲", "😍", "🤔", "🙈", "🔥", "✨", "🚀", "🎉", "💯", "👍", "👎", "🙏",
               "❤️", "❤", "♥", "☕", "⚡", "⭐", "🌍", "🍕", "🐍", "🦀", "🐧", "📦", "🧪", "🤖",
               "🫠", "🫶", "🪐", "🧬", "☀️", "☁", "✅", "❌", "⚠️", "🔒", "📈", "🥇", "🎵"]
SKIN = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
SKIN_BASES = ["👋", "👍", "🙌", "👏", "🤝", "✋", "💪", "🧑", "👩", "👨", "🧒", "🤷", "🙋"]
ZWJ = [
    "👨\u200d👩\u200d👧\u200d👦", "👩\u200d❤️\u200d👨", "👩\u200d💻", "👨\u200d🔬", "🧑\u200d🚀",
    "🏳️\u200d🌈", "🏳️\u200d⚧️", "🐻\u200d❄️", "👁️\u200d🗨️", "🧑🏽\u200d🤝\u200d🧑🏿",
    "👩🏾\u200d🦱", "🏃\u200d♀️", "🏃🏻\u200d♂️\u200d➡️", "😮\u200d💨", "❤️\u200d🔥", "🐕\u200d🦺",
]
FLAGS = ["🇺🇸", "🇬🇧", "🇫🇷", "🇩🇪", "🇯🇵", "🇨🇳", "🇰🇷", "🇮🇳", "🇧🇷", "🇺🇦", "🇮🇱", "🇪🇺", "🇺🇳",
         "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",  # England tag sequence
         "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",  # Scotland
         "🏁", "🚩", "\U0001F1E6", "\U0001F1E6\U0001F1E6\U0001F1E6"]  # lone / odd regional indicators
KEYCAPS = ["1\ufe0f\u20e3", "#\ufe0f\u20e3", "*\u20e3", "©\ufe0f", "®", "™\ufe0f", "↔\ufe0e", "↔\ufe0f"]

COMBINING = ["\u0301", "\u0300", "\u0302", "\u0303", "\u0308", "\u030a", "\u0327", "\u0328", "\u0323",
             "\u0331", "\u0336", "\u0335", "\u20d7", "\u0361", "\u035c", "\u05b4", "\u0651", "\u093c",
             "\u0e31", "\u3099", "\u309a"]
NFC_WORDS = ["café", "naïve", "résumé", "Ångström", "Zoë", "façade", "piñata", "jalapeño", "Crème brûlée",
             "Đặng Thị Ngọc Thịnh", "ǅemal", "Ωmega Ω Ω", "ḱṷṓn", "한국어", "가나다", "が ぱ ガ パ",
             "Åland", "éèêë", "ǖǘǚǜ", "Ǆ ǆ ǅ", "ﬁ ﬂ ﬀ ﬃ", "①②③ ⅰⅱⅲ", "Ｆｕｌｌｗｉｄｔｈ １２３",
             "x² + y³ = z⁴", "½ ¼ ¾", "µ μ Å Å", "K K", "ℌℍℎ ℵ", "ｱｲｳｴｵ", "㍿ ㌔ ㎏"]
ASTRAL = ["𝐀𝐁𝐂 𝑥𝑦𝑧 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀𠀁𠀂 𪚥 𩸽", "𓀀𓁐𓂀 hieroglyphs", "𐌰𐌱𐌲 gothic", "🜁🜂🜃🜄",
          "\U0001D11E music", "\U00010348", "\U0001F9D1", "\U000F0000 private use plane 15",
          "\U0010FFFD", "\ue000\uf8ff BMP private use", "\ufffd replacement \ufffd\ufffd",
          "\ufffe\uffff noncharacters", "\U0003134A cjk ext g", "\U000E0001\U000E0020 tags"]
BIDI = ["\u200e left-to-right mark", "\u200f right-to-left mark", "abc \u202eevil\u202c def",
        "\u2066isolate\u2069", "zero\u200bwidth\u200bspace", "word\u2060joiner", "soft\u00adhyphen",
        "non\u00a0breaking\u00a0space", "narrow\u202fnbsp", "ideographic\u3000space", "em\u2003space",
        "thin\u2009space", "hair\u200aspace", "ogham\u1680space", "mongolian\u180evs",
        "zwnj\u200cكتاب\u200cها", "zwj\u200d\u200d\u200d"]

CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]
CONTRACTION_WORDS = ["it", "don", "we", "they", "I", "you", "she", "he", "that", "John", "isn", "won",
                     "can", "shouldn", "wouldn", "y", "ma", "rock n", "O"]

SPECIALS = ["<s>", "</s>", "<unk>", "<pad>", "<bos>", "<eos>", "<mask>", "[multimodal]",
            "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<image_soft_token>",
            "<unused0>", "<unused42>", "<unused6241>", "<unused99999>",
            "<|endoftext|>", "<|endofprompt|>", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
            "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_0|>",
            "<|reserved_special_token_250|>", "<|reserved_special_token_999|>", "<|python_tag|>",
            "<|im_start|>", "<|im_end|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
            "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<|vision_start|>", "<|image_pad|>",
            "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>",
            "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>", "<｜User｜>", "<｜Assistant｜>",
            "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>", "<｜tool▁calls▁begin｜>", "<｜tool▁sep｜>",
            "<｜place▁holder▁no▁0｜>", "<｜place▁holder▁no▁799｜>",
            "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "[CLS]", "[SEP]", "[MASK]", "<|user|>", "<|assistant|>",
            "<h1>", "</h1>", "<h5>", "</sup>", "<table>", "</th>", "<td>", "<br>", "<div>", "</div>",
            "\t\t", "\t\t\t\t\t\t", "\n\n\n", "\n\n\n\n\n\n\n\n"]
SPECIAL_MANGLE = [  # partial / mis-spelled / differently-cased / spaced variants
    "<s", "s>", "</s", "< s>", "<S>", "</ s>", "<<s>>", "<s><s>", "</s></s>", "<s></s>", "<unk", "unk>",
    "<|endoftext|", "|endoftext|>", "<|endoftext", "<| endoftext |>", "<|ENDOFTEXT|>", "<|endoftext|>>",
    "<<|endoftext|>", "<|endoftext|><|endoftext|>", "<|begin_of_text", "<|begin_of_text|>x",
    "x<|begin_of_text|>", "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n",
    "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n", "<bos><bos>", "<BOS>", "< bos >",
    "<｜begin▁of▁sentence｜", "｜begin▁of▁sentence｜>", "<|begin▁of▁sentence|>", "<｜begin of sentence｜>",
    "<｜User｜>hi<｜Assistant｜>", "[INST] hi [/INST]", "[INST]hi[/INST]", "[inst]", "[INST", "INST]",
    "<think>\n\n</think>\n\n", "<think></think>", "<unused>", "<unused-1>", "<unused00>", "<pad><pad><pad>",
    "<mask>mask</mask>", "</ think>", "<tool_call>{\"name\": \"f\"}</tool_call>"]

CONTROLS = [chr(c) for c in range(0x00, 0x20)] + ["\x7f", "\x80", "\x85", "\x9f", "\u2028", "\u2029",
                                                  "\ufeff", "\u200b", "\u00a0", "\u000b", "\u000c", "\u001c"]
WS_UNITS = [" ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2003", "\u000b", "\u000c", "\u0085",
            "\u2028", " \n", "\n ", "\t\n", "\n\t"]


def sub_template(rng, tpl):
    ident = rng.choice(IDENTS)
    return tpl.format(f=rng.choice(IDENTS), v=ident, V=ident.upper(), T=rng.choice(TYPES),
                      ns=rng.choice(["uag", "detail", "ns1", "tok"]), n=rng.randint(0, 4096))


def gen_code(rng, count):
    out = []
    langs = sorted(CODE)
    # every snippet once, verbatim-substituted
    for lang in langs:
        for tpl in CODE[lang]:
            out.append(sub_template(rng, tpl))
    while len(out) < count:
        lang = rng.choice(langs)
        text = sub_template(rng, rng.choice(CODE[lang]))
        r = rng.random()
        if r < 0.68:  # a random slice of lines
            lines = text.split("\n")
            a = rng.randrange(len(lines))
            b = rng.randrange(a, min(len(lines), a + 5)) + 1
            text = "\n".join(lines[a:b])
        elif r < 0.74:  # tabs instead of spaces
            text = text.replace("    ", "\t")
        elif r < 0.80:  # CRLF line endings
            text = text.replace("\n", "\r\n")
        elif r < 0.82:  # two snippets glued
            text = text + "\n" + sub_template(rng, rng.choice(CODE[rng.choice(langs)]))
        elif r < 0.88:  # trailing whitespace / no final newline
            text = text.rstrip("\n") + rng.choice(["", " ", "  \n", "\n\n", "\t"])
        elif r < 0.91:  # deeper indentation
            text = "\n".join(("        " + ln) if ln else ln for ln in text.split("\n"))
        out.append(text)
    return out[:count]


def gen_prose(rng, count):
    out = []
    langs = sorted(PROSE)
    for lang in langs:
        out.extend(PROSE[lang])
    while len(out) < count:
        r = rng.random()
        lang = rng.choice(langs)
        if r < 0.55:  # 1-3 sentences of one language
            k = rng.randint(1, min(2, len(PROSE[lang])))
            sents = rng.sample(PROSE[lang], k)
            sep = "" if lang in ("zh", "ja", "th") and rng.random() < 0.5 else " "
            text = sep.join(sents)
        elif r < 0.75:  # two languages mixed
            other = rng.choice(langs)
            text = rng.choice(PROSE[lang]) + rng.choice([" ", "\n", " — ", " (", ": "]) + rng.choice(PROSE[other])
        elif r < 0.85:  # a paragraph with newlines
            text = "\n".join(rng.choice(PROSE[rng.choice(langs)]) for _ in range(rng.randint(2, 3)))
        elif r < 0.92:  # case variants (affects lowercase-sensitive regex branches)
            s = rng.choice(PROSE[lang])
            text = rng.choice([s.upper(), s.lower(), s.title(), s.swapcase()])
        else:  # a sentence cut at a random character boundary
            s = rng.choice(PROSE[lang])
            a = rng.randrange(len(s))
            text = s[a:a + rng.randint(1, 40)]
        out.append(text)
    return out[:count]


def gen_emoji(rng, count):
    out = list(EMOJI_BASIC[:10]) + ZWJ + FLAGS + KEYCAPS
    out += [b + s for b in SKIN_BASES for s in SKIN[:2]]
    while len(out) < count:
        parts = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.3:
                parts.append(rng.choice(EMOJI_BASIC))
            elif r < 0.5:
                parts.append(rng.choice(SKIN_BASES) + rng.choice(SKIN))
            elif r < 0.65:
                parts.append(rng.choice(ZWJ))
            elif r < 0.75:
                parts.append(rng.choice(FLAGS))
            elif r < 0.8:
                parts.append(rng.choice(KEYCAPS))
            elif r < 0.85:
                parts.append(rng.choice(SKIN))  # a lone modifier
            elif r < 0.9:
                parts.append("\u200d")  # a dangling joiner
            else:
                parts.append(rng.choice(["I love it", "so good", "lol", "真好", "ok", "!!!", "wow"]))
        sep = rng.choice(["", " ", "", "\n"])
        out.append(sep.join(parts))
    return out[:count]


def gen_unicode(rng, count):
    out = []
    for w in NFC_WORDS:  # precomposed / decomposed pairs (plus NFKD where it differs)
        out.append(unicodedata.normalize("NFC", w))
        out.append(unicodedata.normalize("NFD", w))
        k = unicodedata.normalize("NFKD", w)
        if k != unicodedata.normalize("NFD", w):
            out.append(k)
    out += ASTRAL + BIDI
    while len(out) < count:
        r = rng.random()
        if r < 0.35:  # base letters with stacks of combining marks
            base = rng.choice("aeiouAEIOUnNcCsSzZxqßıİ가あ")
            text = "".join(base + "".join(rng.choice(COMBINING) for _ in range(rng.randint(1, 4)))
                           for _ in range(rng.randint(1, 6)))
        elif r < 0.45:  # a lone combining mark at the start, after space, after digits
            m = rng.choice(COMBINING)
            text = rng.choice([m + "abc", " " + m, "123" + m + "4", m * rng.randint(2, 20), "\t" + m])
        elif r < 0.7:  # NFC/NFD/NFKC of a random prose sentence
            s = rng.choice(PROSE[rng.choice(sorted(PROSE))])
            text = unicodedata.normalize(rng.choice(["NFD", "NFKD", "NFKC"]), s)
        else:  # random code points from interesting blocks
            blocks = [(0x00A0, 0x024F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0590, 0x05FF), (0x0600, 0x06FF),
                      (0x0900, 0x097F), (0x0E00, 0x0E7F), (0x10A0, 0x10FF), (0x1100, 0x11FF), (0x1E00, 0x1EFF),
                      (0x2000, 0x206F), (0x2100, 0x22FF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3),
                      (0xFB00, 0xFDFF), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0x1F300, 0x1FAFF), (0x20000, 0x2A6DF)]
            lo, hi = rng.choice(blocks)
            text = "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 12)))
        out.append(text)
    return out[:count]


def gen_whitespace(rng, count):
    out = [" ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\n\n", " \n ", "\t\t\t", " " * 17, "\n" * 9,
           "\r\n\r\n", "\u00a0", "\u3000", " a", "a ", " a ", "  a  ", "\ta\t", "\na\n", "a\r\nb",
           "a\rb", "a\n\nb", "a \n b", "a\t \tb", "  leading", "trailing  ", "\n\nx", "x\n\n"]
    words = ["hello", "world", "x", "123", "foo()", "if", "你好", "Привет", "a.b", "'s", "!", "▁", "▁▁x"]
    while len(out) < count:
        parts = []
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                parts.append("".join(rng.choice(WS_UNITS) for _ in range(rng.randint(1, 5))))
            else:
                parts.append(rng.choice(words))
        out.append("".join(parts))
    return out[:count]


def gen_control(rng, count):
    out = list(CONTROLS)  # every control character alone
    out += ["a\x00b", "\x00\x00\x00", "nul at end\x00", "\x1b[31mred\x1b[0m", "bell\x07", "back\bspace",
            "form\x0cfeed", "vtab\x0bhere", "del\x7fete", "next\x85line", "line\u2028sep", "para\u2029sep",
            "\ufeffBOM at start", "BOM in\ufeffmiddle", "\x01\x02\x03\x04 header"]
    while len(out) < count:
        text = ""
        for _ in range(rng.randint(1, 6)):
            text += rng.choice(CONTROLS) * rng.randint(1, 3)
            text += rng.choice(["", "x", "abc", " ", "12", "é", "日本", "\n", "<s>"])
        out.append(text)
    return out[:count]


def gen_long(rng, count):
    out = [
        "a" * 300, "ab" * 200, "x" * 800, "9" * 400, "1234567890" * 30, "0." + "3" * 250,
        "-" * 200, "=" * 120, "#" * 150, " " * 300, "\t" * 100, "\n" * 100, "." * 256, "é" * 200,
        "e\u0301" * 150, "字" * 200, "ก" * 150, "😀" * 100, "🇺🇸" * 50, "<s>" * 60, "▁" * 120,
        "Pneumonoultramicroscopicsilicovolcanoconiosis " * 5,
        "Lopado­temacho­selacho­galeo­kranio­leipsano­drim­hypo­trimmato­silphio­parao­melito­katakechy­meno­kichl­epi­kossypho­phatto­perister­alektryon­opte­kephallio­kigklo­peleio­lagoio­siraio­baphe­tragano­pterygon",
        "https://example.com/" + "/".join("seg%d" % i for i in range(60)) + "?q=" + "&".join("k%d=v%d" % (i, i) for i in range(30)),
        "0x" + "DEADBEEF" * 40,
        "".join(str(i) for i in range(200)),
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'saaaaaaaaaaaaaaaaaaa",
    ]
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while len(out) < count:
        r = rng.random()
        n = rng.randint(150, 500)
        if r < 0.3:
            text = "".join(rng.choice(alphabet) for _ in range(n))
        elif r < 0.55:
            text = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(n - 1))
        elif r < 0.7:
            text = "".join(rng.choice("0123456789,. ") for _ in range(n))
        elif r < 0.85:
            s = rng.choice(PROSE[rng.choice(sorted(PROSE))]).replace(" ", "")
            text = (s * (n // max(1, len(s)) + 1))[:n]
        else:
            text = rng.choice(["ha", "la", "na", "ab", "xyz", "ЖЖ", "ññ", "ab1"]) * (n // 2)
        out.append(text)
    return out[:count]


def gen_contraction(rng, count):
    out = []
    for c in CONTRACTIONS:
        for variant in (c, c.upper(), c.capitalize(), c[:2] + c[2:].upper() if len(c) > 2 else c.upper()):
            out.append("it" + variant)
    out += ["I'M", "YOU'RE", "WE'VE", "SHE'LL", "HE'D", "IT'S", "DON'T", "You'Re", "We'Ve", "They'lL",
            "it’s (curly)", "don’t", "‘quoted’", "rock 'n' roll", "'s", "'", "''", "'''s", "'ss", "'lll",
            "l'homme", "aujourd'hui", "O'Neill's", "'tis", "'twas", "y'all'd've", "ma'am", "Hawai'i",
            "isn't it's", "'S 'T 'RE 'VE 'M 'LL 'D", "'s't're've'm'll'd", " 's", "\n's", "3's", "你's", "Ü'S"]
    while len(out) < count:
        parts = []
        for _ in range(rng.randint(1, 6)):
            w = rng.choice(CONTRACTION_WORDS)
            c = rng.choice(CONTRACTIONS)
            c = "".join(ch.upper() if rng.random() < 0.5 else ch for ch in c)
            if rng.random() < 0.1:
                c = c.replace("'", rng.choice(["’", "`", "´"]))
            parts.append(w + c)
        out.append(" ".join(parts) + rng.choice(["", ".", "?", "!", " "]))
    return out[:count]


def gen_special(rng, count):
    out = list(SPECIALS) + list(SPECIAL_MANGLE)
    fillers = ["hello", " hello", "hello ", " ", "", "\n", "Hi there", "你好", "x", "'s", "123", "▁", "<", ">",
               "|", "｜", "é", "😀", "\t", "  "]
    while len(out) < count:
        parts = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.45:
                parts.append(rng.choice(SPECIALS))
            elif r < 0.6:
                parts.append(rng.choice(SPECIAL_MANGLE))
            else:
                parts.append(rng.choice(fillers))
        out.append("".join(parts))
    return out[:count]


def gen_edge(rng, count):
    out = ["", " ", "a", "A", "0", ".", "'", "\"", "\\", "/", "▁", "Ġ", "Ċ", "ĉ", "\u0120", "<", ">", "|",
           "é", "e\u0301", "ß", "ẞ", "İ", "ı", "ǅ", "ﬀ", "字", "ア", "가", "ก", "א", "ب", "क", "ა", "Ա", "😀",
           "\U0010FFFF", "\ue000", "\ufffd", "\x00", "\n", "\t", "\r", "?", "!", "...", "…", "—", "–", "•",
           "¿", "¡", "€", "£", "¥", "₿", "∑", "√", "∞", "≠", "°", "±", "×", "÷", "§", "¶", "@", "#", "$", "%",
           "^", "&", "*", "(", ")", "[", "]", "{", "}", "~", "`", "+", "=", "-", "_", ";", ":", ",",
           "1", "12", "123", "1234", "12345", "1.5", "-3", "1e10", "0x1F", "٣", "३", "๓", "①", "Ⅻ", "½"]
    while len(out) < count:
        r = rng.random()
        if r < 0.6:
            c = rng.randint(0x20, 0x2FFF) if rng.random() < 0.8 else rng.randint(0x10000, 0x10FFFF)
            if 0xD800 <= c <= 0xDFFF:
                c = 0xFFFD
            text = chr(c)
        else:
            text = "".join(rng.choice("ab1 .'\n\té字😀") for _ in range(rng.randint(1, 3)))
        out.append(text)
    return out[:count]


def gen_mixed(rng, count, pools):
    out = []
    kinds = sorted(pools)
    while len(out) < count:
        parts = [rng.choice(pools[rng.choice(kinds)]) for _ in range(rng.randint(2, 5))]
        parts = [p if len(p) <= 100 else p[:rng.randint(1, 100)] for p in parts]
        sep = rng.choice(["", " ", "\n", "\t", "  ", "\r\n"])
        out.append(sep.join(parts))
    return out[:count]


def escape_line_separators(s):
    # json.dumps(ensure_ascii=False) leaves these raw; some readers split lines on them.
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085")


def unique(texts, count, seen):
    """First `count` texts not in `seen` (generators over-produce so that duplicates can be dropped)."""
    out = []
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append(t)
    if len(out) < count:
        raise SystemExit(f"make_corpus: only {len(out)} distinct texts, wanted {count}")
    return out[:count]


def build(seed):
    # one generator per section, so that changing one section's size leaves the others unchanged
    plan = [("code", gen_code, 470), ("prose", gen_prose, 640), ("emoji", gen_emoji, 150),
            ("unicode", gen_unicode, 200), ("whitespace", gen_whitespace, 120), ("control", gen_control, 100),
            ("long", gen_long, 40), ("contraction", gen_contraction, 110), ("special", gen_special, 240),
            ("edge", gen_edge, 130)]
    seen = set()
    sections = [(kind, unique(gen(random.Random(f"{seed}:{kind}"), 2 * n), n, seen)) for kind, gen, n in plan]
    pools = {k: v for k, v in sections if k != "long"}
    sections.append(("mixed", unique(gen_mixed(random.Random(f"{seed}:mixed"), 400, pools), 180, seen)))
    rows = []
    for kind, texts in sections:
        for t in texts:
            t.encode("utf-8")  # raises on lone surrogates
            rows.append((kind, t))
    assert len({t for _, t in rows}) == len(rows)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=__file__.rsplit("/", 1)[0] + "/corpus.jsonl" if "/" in __file__ else "corpus.jsonl")
    ap.add_argument("--seed", type=int, default=20261128)
    args = ap.parse_args()
    rows = build(args.seed)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for kind, text in rows:
            f.write(escape_line_separators(json.dumps({"text": text, "kind": kind}, ensure_ascii=False)) + "\n")
    n_bytes = sum(len(t.encode("utf-8")) for _, t in rows)
    print(f"wrote {len(rows)} lines ({n_bytes} bytes of text) to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
