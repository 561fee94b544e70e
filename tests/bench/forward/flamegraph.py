#!/usr/bin/env python3
"""A small flame graph (SVG) from `perf script` output, for tests/bench/forward/run.sh.

    perf script -i gw.perf | flamegraph.py "gateway, before" > before.svg
    perf script -i gw.perf | flamegraph.py --binary target/release/mtls-server "gateway" > gw.svg

Stacks are folded root first; frames under MIN_FRACTION of the samples are dropped so the file
stays small. Names are demangled by perf; Rust hashes (`::h0123...`) and generic arguments are
cut to keep labels readable. Hover a frame for its name and share of samples.
"""
import html
import re
import sys

import symbols

MIN_FRACTION = 0.004
WIDTH, ROW = 1200, 16


def short(name):
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    # Generic arguments, innermost first, until none are left.
    while True:
        cut = re.sub(r"<[^<>]*>", "", name)
        if cut == name:
            break
        name = cut
    return name.strip() or "?"


def stacks(lines):
    frames, comm = [], None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if comm is not None and frames:
                yield [comm] + [short(f) for f in reversed(frames)]
            frames, comm = [], None
        elif comm is None:
            comm = re.sub(r"-?\d+$", "", line.split()[0]) or "?"
        else:
            parts = line.strip().split(None, 1)
            name = parts[1] if len(parts) > 1 else "?"
            frames.append(re.sub(r"\s*\([^()]*\)$", "", re.sub(r"\+0x[0-9a-f]+", "", name)))
    if comm is not None and frames:
        yield [comm] + [short(f) for f in reversed(frames)]


def tree(all_stacks):
    root = {"n": 0, "kids": {}}
    for stack in all_stacks:
        node = root
        node["n"] += 1
        for frame in stack:
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += 1
    return root


def colour(name):
    h = sum(map(ord, name)) % 60
    return f"rgb({200 + h % 55},{80 + h},{40 + h // 2})"


def main():
    args = sys.argv[1:]
    binary = None
    if args[:1] == ["--binary"]:
        binary, args = args[1], args[2:]
    title = args[0] if args else "flame graph"
    if binary:
        # perf leaves the gateway's own frames unnamed: name them (symbols.py).
        named = symbols.stacks(sys.stdin.read(), binary)
        root = tree([comm] + [short(f) for f in reversed(frames)] for comm, frames in named)
    else:
        root = tree(stacks(sys.stdin))
    total = max(root["n"], 1)
    rects, depth_max = [], 0

    def walk(node, name, x, depth):
        nonlocal depth_max
        width = node["n"] / total * WIDTH
        if node["n"] / total < MIN_FRACTION:
            return
        depth_max = max(depth_max, depth)
        rects.append((x, depth, width, name, node["n"]))
        child_x = x
        for kid_name, kid in sorted(node["kids"].items()):
            walk(kid, kid_name, child_x, depth + 1)
            child_x += kid["n"] / total * WIDTH

    walk(root, "all", 0.0, 0)
    height = (depth_max + 3) * ROW
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="monospace" font-size="11">',
        f'<text x="4" y="12">{html.escape(title)} ({total} samples)</text>',
    ]
    for x, depth, width, name, n in rects:
        y = height - (depth + 1) * ROW
        label = html.escape(name)
        share = f"{n / total * 100:.1f}%"
        chars = int(width / 7)
        text = html.escape(name[:chars - 2] + ".." if len(name) > chars else name) if chars >= 3 else ""
        out.append(
            f'<g><title>{label} ({share})</title><rect x="{x:.1f}" y="{y}" width="{max(width - 0.5, 0.1):.1f}" '
            f'height="{ROW - 1}" fill="{colour(name)}"/>'
            + (f'<text x="{x + 2:.1f}" y="{y + 11}">{text}</text>' if text else "")
            + "</g>"
        )
    out.append("</svg>")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
