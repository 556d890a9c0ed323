# Geometric mean of adaptive / best static per group of simulate_all.sh output: python3 geomean.py FILE
# Groups as sim_s26's geomean.py (bundled, qwen, weak: default weights, two threads; products: the bundled
# pair with bfloat16 products; t07), plus weak_products and qwen_products (session 27's recordings).
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim_s26"))
import geomean as s26  # noqa: E402


def group(tag, cell):
    return cell.split('_')[0] + '_products' if tag == 's27p' else s26.group(tag, cell)


s26.report(sys.argv[1], group)
