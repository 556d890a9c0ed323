# Geometric mean of adaptive / best static per group of simulate_all.sh output: python3 geomean.py FILE
# Groups as sim_s27's, plus weak_zen5 (session 28's recordings on a Zen 5 machine) and weak_xeon (session
# 36's, on an Intel Xeon).
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sim_s26"))
import geomean as s26  # noqa: E402  (sim_s26's: report() and the base grouping)


def group(tag, cell):
    if tag == 's28z5':
        return cell.split('_')[0] + '_zen5'
    if tag == 's36xe':
        return cell.split('_')[0] + '_xeon'
    return cell.split('_')[0] + '_products' if tag == 's27p' else s26.group(tag, cell)


s26.report(sys.argv[1], group)
