#!/usr/bin/env python3
"""Fidelity, case 7: a target in its own mount namespace (a container's
view of the file system).

fid_ns_host and fid_ns_inner (fixtures/fidelity/ns) are the same chain under
different names: PREFIX_ns_hot; PREFIX_ns_outer; main.  Two set-ups, each
started with `unshare --mount --propagation private`:

  bind:  a copy of fid_ns_host at DIR/app on the host; inside the
         namespace fid_ns_inner is bind-mounted over DIR/app and executed.
         The host's DIR/app is a different file from the one running.
  only-inside:  DIR is empty on the host; inside the namespace a tmpfs is
         mounted on DIR and fid_ns_inner_stripped (no symbols) and its
         debug file fid_ns_inner_stripped.debug (named by .gnu_debuglink)
         copied there.  Neither file exists outside the namespace.

Expected: >= 90% of samples have inner_ns_hot; inner_ns_outer; main
(symbolized from the target's view: map_files and /proc/PID/root) and none
names a host_ function; in the only-inside set-up the debug info found in
the namespace gives inner_ns_hot its file:line.  Skipped when unshare or
mount cannot be used here (needs root).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import test_fidelity_lib as fid  # noqa: E402

SECONDS = 2
CHAIN = "inner_ns_hot;inner_ns_outer;main"
KNOWN = {"inner_ns_hot", "inner_ns_outer", "host_ns_hot", "host_ns_outer", "main"}

BIND = 'mount --bind "$1" "$2" || exit 97; app=$2; shift 2; exec "$app" "$@"'
TMPFS = ('mount -t tmpfs none "$1" || exit 97; cp "$2" "$3" "$1"/ || exit 98; '
         'app="$1/$(basename "$2")"; shift 3; exec "$app" "$@"')


def unshare_argv(script, *args):
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script,
            "sh"] + list(args)


def probe_unshare(ctx):
    if not fid.which("unshare"):
        raise harness.Skip("unshare (util-linux) is not installed")
    res = ctx.run_command(unshare_argv('mount -t tmpfs none "$1"', ctx.tmpdir), 30)
    if res.rc != 0:
        raise harness.Skip("cannot make a mount namespace here (needs root): %s"
                           % res.stderr.strip())


def check(ctx, name, argv, want_lines):
    fixture = fid.start(ctx, name, argv=argv, module="app")
    what = "%s: pprobe -seconds %d" % (name, SECONDS)
    prof = fid.record(ctx, fixture, SECONDS, what)
    fid.check_share(ctx, prof, prof.samples,
                    lambda s: fid.reduce(s.names(), KNOWN) == CHAIN and
                    fid.reaches_entry(s.names()), 0.90, what,
                    "stack %s reaching the entry point" % CHAIN)
    host = prof.select(lambda s: any(n.startswith("host_") for n in s.names()))
    ctx.check(not host, "%s: expected no host_ function (the host's file at the same path), "
              "got:\n%s" % (what, prof.top_stacks(host)))
    if want_lines:
        hot = [s.frames[0] for s in prof.samples if s.frames and s.frames[0].name ==
               "inner_ns_hot"]
        bad = [(f.file, f.line) for f in hot if not (f.file and f.file.endswith("ns_hot.c"))]
        ctx.check(hot and not bad, "%s: expected inner_ns_hot at ns_hot.c:LINE (debug info "
                  "inside the namespace), got %d of %d without, e.g. %s"
                  % (what, len(bad), len(hot), bad[:3]))
    doc, _ = fid.dump(ctx, fixture, "%s: pprobe dump" % name)
    t = fid.dump_thread(doc, fixture.pid)
    names = fid.frame_names(t) if t else []
    ctx.check(fid.reduce(names, KNOWN) == CHAIN, "%s: pprobe dump: expected %s, got %s"
              % (name, CHAIN, names))
    fixture.kill()


def main(ctx):
    ctx.require_pprobe()
    probe_unshare(ctx)
    host = fid.fixture_path(ctx, "fid_ns_host")
    inner = fid.fixture_path(ctx, "fid_ns_inner")
    stripped = fid.fixture_path(ctx, "fid_ns_inner_stripped")
    debug = stripped + ".debug"

    bind_dir = ctx.tmp_path("bind")
    os.makedirs(bind_dir)
    app = os.path.join(bind_dir, "app")
    with open(host, "rb") as src, open(app, "wb") as dst:
        dst.write(src.read())
    os.chmod(app, 0o755)
    check(ctx, "ns_bind", unshare_argv(BIND, inner, app), want_lines=True)

    only_dir = ctx.tmp_path("inside")
    os.makedirs(only_dir)
    check(ctx, "ns_only_inside", unshare_argv(TMPFS, only_dir, stripped, debug),
          want_lines=True)
    ctx.check(not os.listdir(only_dir), "the namespace's tmpfs leaked to the host: %s"
              % os.listdir(only_dir))


if __name__ == "__main__":
    harness.run(main)
