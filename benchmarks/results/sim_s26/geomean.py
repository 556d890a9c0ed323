# Geometric mean of adaptive / best static per group of simulate_all.sh output: python3 geomean.py FILE
# Groups: bundled, qwen (151k target), weak (default weights, 2 threads; sessions 18-20), products (the
# bundled pair with bfloat16 products, one thread; sessions 25-26), t07 (T = 0.7, products, one thread).
# report(path, group) serves later sessions' groupings (sim_s27/geomean.py).
import sys, math, collections


def group(tag, cell):
    return 'products' if tag in ('s25p', 's26p') else 't07' if tag == 't07' else cell.split('_')[0]


def report(path, group=group):
    g = collections.defaultdict(list)
    for line in open(path):
        p = line.split()
        if len(p) < 3:
            continue
        try:
            g[group(p[0], p[1])].append(float(p[2]))
        except ValueError:
            pass
    every = []
    for k, v in sorted(g.items()):
        every += v
        print(k, len(v), "geo %.4f min %.3f" % (math.exp(sum(map(math.log, v)) / len(v)), min(v)))
    print('all', len(every), "geo %.4f" % math.exp(sum(map(math.log, every)) / len(every)))


if __name__ == "__main__":
    report(sys.argv[1])
