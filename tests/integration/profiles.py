"""Profiles as the integration tests see them, whichever reader decoded them.

Two readers decode every profile pprobe writes: the project's pprof_decode
(`pprof_decode --lines FILE`) and `go tool pprof -raw FILE`.  The parsers
here turn either text into the same Profile: samples with their values,
frames leaf first (an inlined frame is a frame of its own, innermost first)
and labels, so that one set of assertions runs on both and the two can be
compared with each other.  Python standard library only.
"""

import collections
import re


class ProfileFormatError(Exception):
    """A reader's output is not what the parser expects (or lacks a sample type)."""


class Frame:
    """One frame: function name (or 0xADDR if unsymbolized), file, line, and
    the location id it came from (go tool pprof only, else None)."""

    __slots__ = ("name", "file", "line", "loc")

    def __init__(self, name, file=None, line=None, loc=None):
        self.name = name
        self.file = file
        self.line = line
        self.loc = loc

    def __repr__(self):
        where = "@%s:%s" % (self.file, self.line) if self.file is not None else ""
        return self.name + where


class Sample:
    """values (ints, in sample type order), frames (leaf first, inlined
    frames innermost first), labels ({key: value string})."""

    __slots__ = ("values", "frames", "labels")

    def __init__(self, values, frames, labels):
        self.values = values
        self.frames = frames
        self.labels = labels

    def names(self):
        return [f.name for f in self.frames]

    def stack(self):
        """The sample's stack as one "leaf;...;root" line."""
        return ";".join(self.names())

    def __repr__(self):
        return "%s %s %s" % (" ".join(map(str, self.values)), self.stack(),
                             " ".join("%s=%s" % kv for kv in sorted(self.labels.items())))


class Profile:
    """A decoded profile, the same shape whichever reader produced it."""

    def __init__(self, reader, path):
        self.reader = reader
        self.path = path
        self.sample_types = []      # [(type, unit)]
        self.period_type = None     # (type, unit)
        self.period = None
        self.time_nanos = None
        self.duration_nanos = None
        self.comments = []
        self.mappings = []          # raw mapping text, one per mapping
        self.top = None             # go tool pprof -top output (go only)
        self.samples = []

    def value_index(self, type_unit):
        try:
            return self.sample_types.index(type_unit)
        except ValueError:
            raise ProfileFormatError("[%s] %s: no sample type %s/%s (types: %s)"
                          % (self.reader, self.path, type_unit[0], type_unit[1],
                             self.sample_types))

    def count(self, samples=None):
        """Sum of samples/count over samples (default: all)."""
        i = self.value_index(("samples", "count"))
        return sum(s.values[i] for s in (self.samples if samples is None else samples))

    def cpu_ns(self, samples=None):
        """Sum of cpu/nanoseconds over samples (default: all)."""
        i = self.value_index(("cpu", "nanoseconds"))
        return sum(s.values[i] for s in (self.samples if samples is None else samples))

    def aggregate(self):
        """{(stack, labels): summed values}, zero samples dropped.

        go tool pprof merges samples with equal stacks and labels and drops
        all-zero ones; this is the form both readers can be compared in.
        """
        agg = {}
        for s in self.samples:
            if not any(s.values):
                continue
            key = (s.stack(), tuple(sorted(s.labels.items())))
            prev = agg.get(key)
            agg[key] = list(s.values) if prev is None else [a + b for a, b in zip(prev, s.values)]
        return {k: tuple(v) for k, v in agg.items()}

    def count_by(self, key, samples=None):
        """{key(sample): summed samples/count}."""
        i = self.value_index(("samples", "count"))
        counts = collections.Counter()
        for s in (self.samples if samples is None else samples):
            counts[key(s)] += s.values[i]
        return dict(counts)

    def select(self, predicate):
        """The samples for which predicate(sample) is true."""
        return [s for s in self.samples if predicate(s)]

    def share(self, predicate, samples=None):
        """(count of matching samples, count of all), weighted by samples/count."""
        pool = self.samples if samples is None else samples
        return self.count([s for s in pool if predicate(s)]), self.count(pool)

    def top_stacks(self, n=10, samples=None):
        """The n heaviest stacks by count, as text lines for failure messages."""
        by_stack = collections.Counter()
        i = self.value_index(("samples", "count"))
        for s in (self.samples if samples is None else samples):
            by_stack[s.stack()] += s.values[i]
        return "\n".join("    %6d %s" % (c, st) for st, c in by_stack.most_common(n))


def _frame_from_decode(text):
    """Parses one frame of pprof_decode --lines: name@file:line, name, or 0xADDR."""
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
        return Frame("0x%x" % int(text, 16))   # spelled as go tool pprof does
    name, at, where = text.rpartition("@")
    if at:
        m = re.fullmatch(r"(.*):(-?\d+)", where)
        if m:
            return Frame(name, m.group(1), int(m.group(2)))
    return Frame(text)


def parse_pprof_decode(text, path):
    """Parses the output of `pprof_decode --lines FILE` into a Profile."""
    prof = Profile("pprof_decode", path)
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        kind, _, rest = line.partition(" ")
        if kind == "sample":
            parts = rest.split("\t")
            if len(parts) < 2:
                raise ProfileFormatError("[pprof_decode] %s line %d: sample without frames: %r"
                              % (path, n, line))
            try:
                values = [int(v) for v in parts[0].split()]
            except ValueError:
                raise ProfileFormatError("[pprof_decode] %s line %d: bad values: %r" % (path, n, line))
            frames = [_frame_from_decode(f) for f in parts[1].split(";") if f]
            labels = {}
            last = None
            for tok in (parts[2].split(" ") if len(parts) > 2 else []):
                key, eq, value = tok.partition("=")
                if eq and key:
                    labels[key] = value
                    last = key
                elif last is not None and tok:
                    labels[last] += " " + tok   # a value with a space in it
            prof.samples.append(Sample(values, frames, labels))
        elif kind == "types":
            prof.sample_types = [tuple(t.split("/", 1)) for t in rest.split()]
        elif kind == "period":
            type_unit, _, value = rest.rpartition(" ")
            prof.period_type = tuple(type_unit.split("/", 1))
            prof.period = int(value)
        elif kind == "time_nanos":
            prof.time_nanos = int(rest)
        elif kind == "duration_nanos":
            prof.duration_nanos = int(rest)
        elif kind == "comment":
            prof.comments.append(rest)
        elif kind == "mapping":
            prof.mappings.append(rest)
        # Other records are for other uses; ignored here.
    return prof


_GO_TOP_UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "hrs": 3600e9}


def parse_go_top_duration(text):
    """Nanoseconds in the "Duration: 2s, Total samples = ..." header of
    `go tool pprof -top` (measurement.Label: ns, us, ms, s or hrs, two
    decimals), or None if there is no such header.

    -raw is no use for this: it prints the duration with %.4v, which cuts
    "2.000104338s" to "2.00" and "500.1ms" to "500.".
    """
    m = re.search(r"^Duration: ([0-9.]+)(ns|us|ms|s|hrs)?,", text, re.MULTILINE)
    if not m:
        return None
    return int(float(m.group(1)) * _GO_TOP_UNITS.get(m.group(2) or "s"))


_GO_LINE = re.compile(r"(?P<name>.*) (?P<file>\S*):(?P<line>-?\d+) s=-?\d+(?:\(.*\))?")


def parse_go_raw(text, path):
    """Parses the output of `go tool pprof -raw FILE` into a Profile.

    Layout (profile.String() in github.com/google/pprof): header lines
    (Comment:, PeriodType:, Period:, Time:, Duration:; the duration is
    taken from -top instead, see parse_go_top_duration), "Samples:", the
    sample types, then each sample as "V0 V1: LOCID LOCID ..." (leaf first)
    followed by label lines "key:[value]" (string labels, then numeric);
    "Locations", each "ID: 0xADDR M=MAPID NAME FILE:LINE s=START" with inlined
    callers on indented lines after it (innermost first); "Mappings".
    """
    prof = Profile("go tool pprof", path)
    section = "header"
    raw_samples = []
    locations = {}
    cur_loc = None
    for line in text.splitlines():
        stripped = line.strip()
        if section == "header":
            if stripped == "Samples:":
                section = "types"
            elif line.startswith("Comment: "):
                prof.comments.append(line[len("Comment: "):])
            elif line.startswith("PeriodType: "):
                prof.period_type = tuple(line.split()[1:3])
            elif line.startswith("Period: "):
                prof.period = int(line.split()[1])
            elif line.startswith("Time: "):
                prof.time_nanos = 1   # printed as a date; only presence matters
        elif section == "types":
            prof.sample_types = [tuple(t.replace("[dflt]", "").split("/", 1))
                                 for t in stripped.split()]
            section = "samples"
        elif section == "samples":
            if stripped == "Locations":
                section = "locations"
            elif ":[" in stripped:
                if not raw_samples:
                    raise ProfileFormatError("[go tool pprof] %s: labels before any sample: %r"
                                  % (path, line))
                labels = raw_samples[-1][2]
                for key, value in re.findall(r"(\S+?):\[([^\]]*)\]", stripped):
                    m = re.fullmatch(r"(-?\d+)(?: \S*)?", value)   # "N" or "N unit"
                    labels[key] = m.group(1) if m else value
            elif stripped:
                m = re.fullmatch(r"((?:-?\d+\s+)*-?\d+):\s*((?:\d+\s*)*)", stripped)
                if not m:
                    raise ProfileFormatError("[go tool pprof] %s: cannot parse sample line %r"
                                  % (path, line))
                raw_samples.append(([int(v) for v in m.group(1).split()],
                                    [int(i) for i in m.group(2).split()], {}))
        elif section == "locations":
            if stripped == "Mappings":
                section = "mappings"
                continue
            m = re.match(r"\s*(\d+): (0x[0-9a-fA-F]+) (?:M=\d+ )?(?:\[F\] )?(.*)$", line)
            if m:
                cur_loc = int(m.group(1))
                addr = int(m.group(2), 16)
                locations[cur_loc] = []
                rest = m.group(3).strip()
                if rest:
                    locations[cur_loc].append(_go_frame(rest, addr, cur_loc, path))
                else:
                    locations[cur_loc].append(Frame("0x%x" % addr, loc=cur_loc))
            elif stripped and cur_loc is not None:
                addr = None
                locations[cur_loc].append(_go_frame(stripped, addr, cur_loc, path))
        elif section == "mappings":
            if stripped:
                prof.mappings.append(stripped)
    if section == "header":
        raise ProfileFormatError("[go tool pprof] %s: no Samples section in -raw output" % path)
    for values, loc_ids, labels in raw_samples:
        frames = []
        for loc_id in loc_ids:
            if loc_id not in locations:
                raise ProfileFormatError("[go tool pprof] %s: sample names location %d, which is not listed"
                              % (path, loc_id))
            frames.extend(locations[loc_id])
        prof.samples.append(Sample(values, frames, labels))
    return prof


def _go_frame(text, addr, loc, path):
    if text == "??":
        return Frame("0x%x" % addr if addr is not None else "??", loc=loc)
    m = _GO_LINE.fullmatch(text)
    if not m:
        raise ProfileFormatError("[go tool pprof] %s: cannot parse location line %r" % (path, text))
    return Frame(m.group("name"), m.group("file"), int(m.group("line")), loc)
