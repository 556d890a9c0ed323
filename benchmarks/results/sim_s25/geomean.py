# Geometric mean of adaptive / best static per group of simulate_all.sh output: python3 geomean.py FILE
import sys, math, collections
g=collections.defaultdict(list)
for line in open(sys.argv[1]):
    p=line.split()
    if len(p)<3: continue
    grp=p[0] if p[0]=='s25p' else p[1].split('_')[0]
    try: g[grp].append(float(p[2]))
    except: pass
for k,v in g.items(): print(k, len(v), "geo %.4f min %.3f" % (math.exp(sum(map(math.log,v))/len(v)), min(v)))
