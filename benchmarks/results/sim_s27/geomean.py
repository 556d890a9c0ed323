# Geometric mean of adaptive / best static per group of simulate_all.sh output: python3 geomean.py FILE
# Groups as sim_s26's geomean.py (bundled, qwen, weak: default weights, two threads; products: the bundled
# pair with bfloat16 products; t07), plus weak_products and qwen_products (session 27's recordings).
import sys, math, collections
g = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) < 3:
        continue
    pair = p[1].split('_')[0]
    grp = ('products' if p[0] in ('s25p', 's26p') else 't07' if p[0] == 't07'
           else pair + '_products' if p[0] == 's27p' else pair)
    try:
        g[grp].append(float(p[2]))
    except ValueError:
        pass
every = []
for k, v in sorted(g.items()):
    every += v
    print(k, len(v), "geo %.4f min %.3f" % (math.exp(sum(map(math.log, v)) / len(v)), min(v)))
print('all', len(every), "geo %.4f" % math.exp(sum(map(math.log, every)) / len(every)))
