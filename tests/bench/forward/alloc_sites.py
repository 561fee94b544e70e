#!/usr/bin/env python3
"""Allocation sites, from `perf script` output of the allocator uprobes recorded with
`--call-graph dwarf` (profile.sh, ALLOC_STACKS=1).

    alloc_sites.py <gateway binary> <allocations per request> < allocs.txt

The gateway's frames are named by addr2line (symbols.py). Each allocation is charged to its
nearest frames outside the allocator, the standard library and the containers. perf drops
events of a busy recording, so each site's share of the recorded stacks is scaled to the exact
count per request (perf stat over the same probes) given as the second argument.
"""
import collections
import re
import sys

import symbols

SKIP = re.compile(
    r"^(mi_|_mi_|__rust|__rdl|__rg|alloc::|core::|std::|<alloc::|<core::|<std::|hashbrown::|<hashbrown"
    r"|<T as |<\[T\]|<str as|<&|mimalloc|<mimalloc|<Box|bytes::|<bytes::|alloc_impl|allocate|box_new"
    r"|to_vec|to_owned|with_capacity|new_uninit|\[unknown\])"
)


def main():
    binary, per_request = sys.argv[1], float(sys.argv[2])
    samples = symbols.stacks(sys.stdin.read(), binary)
    sites = collections.Counter()
    for _, frames in samples:
        ours = [n for n in frames if not SKIP.match(n)]
        sites[" <- ".join(n[:90] for n in ours[:2]) or "?"] += 1
    total = max(len(samples), 1)
    print(f"{per_request:.1f} allocations per request; {len(samples)} stacks recorded")
    for site, n in sites.most_common(40):
        print(f"{n / total * per_request:6.2f}  {site}")


if __name__ == "__main__":
    main()
