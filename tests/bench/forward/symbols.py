"""Call stacks from `perf script` output, with the gateway's frames named by addr2line.

perf leaves the frames of the (PIE, LTO) gateway binary unnamed ("[unknown]", file offsets);
addr2line names them, inlined frames included (with LTO most of the gateway is inlined).
"""
import re
import subprocess


def text_delta(binary):
    """Virtual address minus file offset of the binary's executable segment."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        # LOAD offset vaddr paddr filesz memsz flags... align; the flags "R E" are two fields.
        if f and f[0] == "LOAD" and "E" in f[6:-1]:
            return int(f[2], 16) - int(f[1], 16)
    return 0


def stacks(text, binary):
    """(thread name, frames leaf first) of every sample."""
    name = binary.rsplit("/", 1)[-1]
    raw, addresses = [], set()
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        if len(lines) < 2:
            continue
        comm = re.sub(r"-?\d+$", "", lines[0].split()[0]) or "?"
        frames = []
        for line in lines[1:]:
            m = re.match(r"\s*([0-9a-f]+) (.*) \((.*)\)$", line)
            if not m:
                continue
            if m.group(3).endswith(name):
                frames.append(int(m.group(1), 16))
                addresses.add(int(m.group(1), 16))
            else:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", m.group(2)))
        raw.append((comm, frames))
    delta, names, ordered = text_delta(binary), {}, sorted(addresses)
    for start in range(0, len(ordered), 500):
        # A return address points after its call: look up the byte before.
        query = [hex(a - 1 + delta) for a in ordered[start:start + 500]]
        out = subprocess.run(["addr2line", "-e", binary, "-f", "-C", "-i", "-a", *query],
                             capture_output=True, text=True).stdout.splitlines()
        i, current = 0, None
        while i < len(out):
            if out[i].startswith("0x"):
                current = int(out[i], 16) + 1 - delta
                names[current] = []
                i += 1
            elif out[i]:
                names[current].append(re.sub(r"::h[0-9a-f]{16}$", "", out[i]))
                i += 2
            else:
                i += 1
    return [
        (comm, [n for f in frames for n in (names.get(f) or ["?"] if isinstance(f, int) else [f])])
        for comm, frames in raw
    ]
