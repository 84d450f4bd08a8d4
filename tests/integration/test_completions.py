#!/usr/bin/env python3
"""Keeps the option table, --help, the man page and the three shell
completions in sync, and checks the completions in the real shells.

The truth is the binary.  `pprobe --list-flags` names the commands and the
flags (with their one-letter aliases); which command takes which flag, and
whether a flag takes a value, is asked of the parser itself by probing it
(`pprobe CMD -flag=1 -version`: "takes no value", "is not a flag of", or
accepted), since --list-flags does not say.  Against that:

  --help        every command in the usage lines, every flag in the flag
                list and nothing else, with a value name exactly when it
                takes a value, and the commands in brackets ([record, top];
                none: every command) as the parser has them; the flags of
                each usage line are flags of that command.
  doc/pprobe.1  the same for the .TP entries under OPTIONS; every flag of a
                SYNOPSIS line is a flag of its command, and every command has
                one; EXIT STATUS has the exit codes --help lists; and groff
                renders it without a warning.
  completions   each file names every flag; then each is loaded in its shell
                and asked, for every command: `pprobe CMD -` and
                `pprobe CMD --` offer exactly that command's flags (-x, -name;
                --name), `pprobe ` the commands, `-format ` and `-mode ` the
                values the parser accepts (record: pprof folded text svg;
                dump: text json pprof), `-p ` the pid of a sleep(1) this test
                started (zsh and fish: described by its name "sleep") and no
                kernel thread, `-p PID -t ` that process's thread ids, and
                `-o DIR/pre` a file there.

The shells, as the user has them: bash (the completion function that
`complete -p pprobe` names, called with COMP_WORDS/COMP_CWORD set as
readline would, reading COMPREPLY), zsh (an interactive zsh on a pseudo
terminal through the zsh/zpty module, compinit with the file first on
$fpath, TAB typed, and compadd wrapped to record what the completion system
was given to offer), and fish (`source` the file, `complete -C LINE`).

A missing shell fails the test, naming the Debian package, rather than
skipping it: dev.sh installs zsh and fish (and groff-base), so a missing one
means a broken set-up, and a skip would let a broken completion file land
unnoticed -- the file for a shell that is not there is exactly the one
nobody looks at.

Environment: PPROBE (the binary), TEST_TMPDIR, and PPROBE_SOURCE_DIR (the
source tree; defaults to the one this file is in).
"""

import collections
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Failure  # noqa: E402

PROBE_TIMEOUT = 10    # one `pprobe ... -version` probe, which ends at once
SHELL_TIMEOUT = 30    # one completion in one shell (zsh runs compinit each time)
GROFF_TIMEOUT = 30

RECORD_FORMATS = {"pprof", "folded", "text", "svg"}
DUMP_FORMATS = {"text", "json", "pprof"}
MODES = {"cpu", "wall"}

# A flag as written in --help, the man page or a shell: -x, -name, --name.
FLAG_RE = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)")


def source_dir():
    d = os.environ.get("PPROBE_SOURCE_DIR")
    if d:
        return d
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------------------
# The truth: --list-flags and the parser


class Table:
    """What --list-flags says, and what probing the parser adds."""

    def __init__(self):
        self.commands = []            # in order
        self.short = {}               # long name -> letter or None
        self.has_arg = {}             # long name -> bool
        self.takes = collections.defaultdict(set)   # long name -> {command}

    def by_name(self, written):
        """The long name of the flag written as -x, -name or --name, or None."""
        name = written.lstrip("-")
        if written.startswith("--") and name in self.short:
            return name
        if not written.startswith("--"):
            if name in self.short:
                return name
            for long_name, letter in self.short.items():
                if letter == name:
                    return long_name
        return None

    def flags_of(self, command):
        return sorted(f for f in self.short if command in self.takes[f])

    def single_dash(self, command):
        """How `pprobe CMD -` should be completed: -x and -name."""
        out = set()
        for f in self.flags_of(command):
            out.add("-" + f)
            if self.short[f]:
                out.add("-" + self.short[f])
        return out

    def double_dash(self, command):
        return {"--" + f for f in self.flags_of(command)}


def read_table(ctx):
    res = ctx.run_pprobe(["--list-flags"], PROBE_TIMEOUT)
    if res.timed_out or res.rc != 0:
        raise Failure("pprobe --list-flags failed:\n  %s" % res.describe())
    table = Table()
    for line in res.stdout.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "command":
            table.commands.append(words[1])
        elif len(words) in (2, 3) and words[0] == "flag":
            letter = words[2] if len(words) == 3 else None
            if letter is not None and len(letter) != 1:
                raise Failure("--list-flags: %r: a flag's alias is one letter" % line)
            table.short[words[1]] = letter
        else:
            raise Failure("--list-flags: unexpected line %r (expected 'command NAME' or "
                          "'flag NAME [LETTER]')" % line)
    if not table.commands or not table.short:
        raise Failure("--list-flags listed no commands or no flags:%s" % harness.indent(res.stdout))
    if "record" not in table.commands:
        raise Failure("--list-flags has no 'record' command, the default: %s" % table.commands)
    return table


def probe_parser(ctx, table):
    """Fills table.has_arg and table.takes by asking the parser.

    `pprobe CMD -NAME=1 -version`: a switch says "takes no value" (before it
    looks at the command); a flag CMD does not take says "is not a flag of";
    anything else (the version, or a complaint about the value "1") means CMD
    takes the flag and it takes a value.  A switch is then tried as
    `pprobe CMD -NAME -version`: the version (exit 0) means CMD takes it.
    """
    def run(args):
        res = ctx.run_pprobe(args, PROBE_TIMEOUT)
        if res.timed_out or res.rc < 0:
            raise Failure("probing the parser: %s" % res.describe())
        return res

    for name in table.short:
        kinds = set()
        for command in table.commands:
            res = run([command, "-%s=1" % name, "-version"])
            if "takes no value" in res.stderr:
                kinds.add("switch")
                res2 = run([command, "-" + name, "-version"])
                if res2.rc == 0:
                    table.takes[name].add(command)
                elif "is not a flag of" not in res2.stderr:
                    raise Failure("probing the parser: cannot tell whether %s takes -%s:\n  %s"
                                  % (command, name, res2.describe()))
            elif "is not a flag of" in res.stderr:
                kinds.add("value")
            elif res.rc == 0 or re.search(r"-(%s|%s)\b" % (name, table.short[name] or name),
                                          res.stderr):
                kinds.add("value")
                table.takes[name].add(command)
            else:
                raise Failure("probing the parser: cannot tell whether %s takes -%s:\n  %s"
                              % (command, name, res.describe()))
        if len(kinds) != 1:
            raise Failure("probing the parser: -%s is a switch for some commands and takes a "
                          "value for others" % name)
        table.has_arg[name] = kinds == {"value"}
        if not table.takes[name]:
            ctx.report("-%s is in --list-flags but no command takes it" % name)
    if not any(table.has_arg.values()) or all(table.has_arg.values()):
        raise Failure("probing the parser: every flag came out %s; did the parser's messages "
                      "('takes no value', 'is not a flag of') change?"
                      % ("a switch" if not any(table.has_arg.values()) else "taking a value"))


def describe_commands(commands, table):
    return "every command" if set(commands) == set(table.commands) else \
        ", ".join(c for c in table.commands if c in commands)


# ---------------------------------------------------------------------------
# One flag entry of --help or of the man page: "-p, -pid PID  ... [record, top]"


FlagEntry = collections.namedtuple("FlagEntry", "where written has_arg commands")


def parse_entry(left, bracket_text, table, where):
    """left: "-p, -pid PID"; bracket_text: the text whose trailing [cmd, ...]
    names the commands (none: every command)."""
    m = re.search(r"\[([a-z]+(?:, ?[a-z]+)*)\]\s*$", bracket_text)
    commands = None
    if m and all(c.strip() in table.commands for c in m.group(1).split(",")):
        commands = {c.strip() for c in m.group(1).split(",")}
        if left.rstrip().endswith(m.group(0).rstrip()):
            left = left[:left.rindex("[")]
    tokens = left.replace(",", " ").split()
    written = [t for t in tokens if t.startswith("-")]
    rest = [t for t in tokens if not t.startswith("-")]
    return FlagEntry(where, written, bool(rest), commands or set(table.commands))


def check_entries(ctx, entries, table, what):
    """Every flag has exactly one entry, and entries agree with the parser."""
    seen = {}
    for e in entries:
        names = set()
        for w in e.written:
            name = table.by_name(w)
            if name is None:
                ctx.report("%s offers %s (%s), which is not in the option table (--list-flags: "
                           "%s)" % (what, w, e.where, sorted(table.short)))
                continue
            names.add(name)
        if len(names) != 1:
            if names:
                ctx.report("%s: %s names more than one flag: %s" % (what, e.where, sorted(names)))
            continue
        name = names.pop()
        if name in seen:
            ctx.report("%s describes -%s twice: %s and %s" % (what, name, seen[name], e.where))
        seen[name] = e.where
        expected_forms = {"-" + name} | ({"-" + table.short[name]} if table.short[name] else set())
        forms = {w for w in e.written if not w.startswith("--")}
        ctx.check(forms == expected_forms, "%s: %s: expected the spellings %s, got %s"
                  % (what, e.where, sorted(expected_forms), sorted(forms)))
        ctx.check(e.has_arg == table.has_arg[name],
                  "%s: %s: -%s %s a value, but the entry %s" % (
                      what, e.where, name, "takes" if table.has_arg[name] else "takes no",
                      "names one" if e.has_arg else "names none"))
        ctx.check(e.commands == table.takes[name],
                  "%s: %s: says -%s is taken by %s, the parser takes it in %s"
                  % (what, e.where, name, describe_commands(e.commands, table),
                     describe_commands(table.takes[name], table)))
    for name in table.short:
        ctx.check(name in seen, "%s has no entry for -%s (it is in --list-flags)" % (what, name))


def check_usage_flags(ctx, command, text, table, what):
    """Every flag in a usage line of command is a flag command takes."""
    for w in FLAG_RE.findall(text):
        name = table.by_name(w)
        if name is None:
            ctx.report("%s: %s is not in the option table (in %r)" % (what, w, text.strip()))
        elif command is not None and command not in table.takes[name]:
            ctx.report("%s: the usage of '%s' shows %s, which '%s' does not take (in %r)"
                       % (what, command, w, command, text.strip()))


# ---------------------------------------------------------------------------
# --help


def exit_codes_of_help(help_text):
    m = re.search(r"Exit codes:(.*?)(?:\n\s*\n|\Z)", help_text, re.S)
    if not m:
        return None
    return {int(c) for c in re.findall(r"(?<![\w-])(\d+) [a-z]", m.group(1))}


def check_help(ctx, table):
    res = ctx.run_pprobe(["--help"], PROBE_TIMEOUT)
    if res.timed_out or res.rc != 0:
        raise Failure("pprobe --help failed:\n  %s" % res.describe())
    text = res.stdout
    lines = text.splitlines()

    # Usage lines: "Usage: pprobe [record] -p PID ...", continuation lines
    # indented, one block per command, up to the first blank line.
    usage = collections.OrderedDict()
    command = None
    for line in lines:
        if not line.strip():
            if usage:
                break
            continue
        m = re.search(r"\bpprobe (\[record\]|[a-z]+)", line)
        if m:
            command = m.group(1).strip("[]")
            if command not in table.commands:
                command = None      # "pprobe -h" and the like
            usage.setdefault(command, "")
        if usage:
            usage[command] = usage.get(command, "") + " " + line
    for c in table.commands:
        ctx.check(c in usage, "--help: no usage line for the command '%s':%s"
                  % (c, harness.indent("\n".join(lines[:6]))))
    for c, line in usage.items():
        check_usage_flags(ctx, c, line.replace("Usage:", ""), table, "--help usage")

    # The flag list: indented lines starting with a flag, two spaces before
    # the text.
    entries = []
    for line in lines:
        m = re.match(r"^\s+(-\S.*?)(?:\s{2,}(.*))?$", line)
        if not m or not re.match(r"^-[a-z]", m.group(1)):
            continue
        entries.append(parse_entry(m.group(1), line, table, "line %r" % line.strip()))
    check_entries(ctx, entries, table, "--help")

    codes = exit_codes_of_help(text)
    ctx.check(codes, "--help has no 'Exit codes:' list")
    return codes or set()


# ---------------------------------------------------------------------------
# The man page


def roff_text(line):
    """The words of one roff source line, fonts and escapes removed."""
    line = re.sub(r"^\.[A-Za-z]+\s*", "", line)
    line = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", line)
    line = line.replace("\\-", "-").replace("\\%", "").replace("\\&", "").replace("\\ ", " ")
    line = line.replace("\\(em", "-").replace('"', "")
    return line


def man_sections(source):
    sections = collections.OrderedDict()
    name = None
    for line in source.splitlines():
        m = re.match(r'^\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            name = m.group(1).strip()
            sections[name] = []
        elif name is not None:
            sections[name].append(line)
    return sections


def check_man(ctx, table, help_codes, man_path):
    try:
        with open(man_path) as f:
            source = f.read()
    except OSError as e:
        raise Failure("cannot read the man page: %s" % e)
    sections = man_sections(source)
    for needed in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT", "EXIT STATUS",
                   "PERMISSIONS", "SAFETY", "EXAMPLES", "SEE ALSO"):
        ctx.check(needed in sections, "%s: no %s section (sections: %s)"
                  % (man_path, needed, list(sections)))

    # SYNOPSIS: one .SY ... .YS block per form.
    blocks, block = [], None
    for line in sections.get("SYNOPSIS", []):
        if line.startswith(".SY"):
            block = []
        elif line.startswith(".YS"):
            if block is not None:
                blocks.append(" ".join(block))
            block = None
        elif block is not None:
            block.append(roff_text(line))
    synopsis_commands = set()
    for text in blocks:
        words = text.replace("[", " ").replace("]", " ").split()
        command = words[0] if words and words[0] in table.commands else None
        if command:
            synopsis_commands.add(command)
        check_usage_flags(ctx, command, text, table, "%s SYNOPSIS" % man_path)
    for c in table.commands:
        ctx.check(c in synopsis_commands, "%s: no SYNOPSIS line for the command '%s'"
                  % (man_path, c))

    # OPTIONS: the tag line after each .TP.
    entries = []
    body = sections.get("OPTIONS", [])
    for i, line in enumerate(body):
        if line.startswith(".TP") and i + 1 < len(body):
            tag = roff_text(body[i + 1])
            entries.append(parse_entry(tag, tag, table, "the entry %r" % tag.strip()))
    check_entries(ctx, entries, table, "%s OPTIONS" % man_path)

    # EXIT STATUS: the codes of the table, those of --help.
    rows = {int(m.group(1)) for line in sections.get("EXIT STATUS", [])
            for m in [re.match(r"^(\d+)\t", line)] if m}
    ctx.check(rows == help_codes, "%s EXIT STATUS lists the codes %s, --help %s"
              % (man_path, sorted(rows), sorted(help_codes)))

    groff = shutil.which("groff")
    if not groff:
        ctx.report("groff is not installed (Debian package groff-base; dev.sh installs it): "
                   "cannot check that the man page renders without warnings")
        return
    res = ctx.run_command([groff, "-t", "-man", "-ww", "-z", man_path], GROFF_TIMEOUT)
    ctx.check(res.rc == 0 and not res.stderr.strip(),
              "the man page does not render cleanly:\n  %s" % res.describe())


def check_files_name_flags(ctx, table, files):
    """Each completion file names every flag (a first look; the shells below
    tell what the files really offer)."""
    for shell, path in files.items():
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            ctx.report("cannot read the %s completion: %s" % (shell, e))
            continue
        for name in list(table.short) + table.commands:
            ctx.check(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(name), text),
                      "%s does not mention '%s' (it is in --list-flags)" % (path, name))


# ---------------------------------------------------------------------------
# The shells


Candidate = collections.namedtuple("Candidate", "word description")

BASH_SCRIPT = r'''
source "$PPROBE_COMPLETION" || exit 3
spec=$(complete -p pprobe) || exit 4
[[ $spec == *" -F "* ]] || { echo "no -F function in: $spec" >&2; exit 4; }
fn=${spec#* -F }
fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$PPROBE_LINE
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
COMP_KEY=9
COMPREPLY=()
"$fn" pprobe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
'''

# Sourced by the interactive zsh on the pty: completion set up as a user
# has it, plus a wrapper of compadd that records every word the completion
# functions offer (with its description) and a post-function that writes
# "done" and ends the shell, so nothing is inserted, listed or asked.
ZSH_SETUP = r'''
stty columns 200 rows 50 2>/dev/null
PS1='' PROMPT='' RPROMPT='' PROMPT_EOL_MARK=''
fpath=("$ZT_FPATH" $fpath)
autoload -Uz compinit
compinit -u -D
zstyle ':completion:*' list-grouped false
bindkey '^I' complete-word
compadd() {
  local -a __hits __dscr
  local __i __d
  # A call that only asks for matches back (-O, -A, -D) offers nothing.
  if [[ ${(j: :)${(@)argv[1,(i)(-|--)]}} == *-[[:alnum:]]#[OAD]* ]]; then
    builtin compadd "$@"
    return
  fi
  __i=${argv[(i)-d]}
  if (( __i < $# )); then
    __d=$argv[__i+1]
    if [[ $__d == \(* ]]; then eval "__dscr=$__d"; else __dscr=("${(@P)__d}"); fi
  fi
  builtin compadd -A __hits -D __dscr "$@"
  for (( __i = 1; __i <= $#__hits; __i++ )); do
    print -r -- "match	$IPREFIX	$__hits[__i]	$__dscr[__i]" >>$ZT_OUT
  done
  builtin compadd "$@"
}
_zt_done() {
  compstate[list]=
  compstate[insert]=
  print -r -- done >>$ZT_OUT
  exit 0
}
comppostfuncs=(_zt_done)
echo setup-$((6 * 7))-done
'''

# Run as `zsh -f driver`: an interactive zsh on a pty (zsh/zpty), the set-up
# sourced, the line typed with a TAB; the pty's output goes to stderr.
ZSH_DRIVER = r'''
zmodload zsh/zpty || exit 3
zpty z zsh -f -i || exit 3
zpty -w z "source ${(q)ZT_SETUP}"
local out
if ! zpty -r z out '*setup-42-done*'; then
  print -u2 -r -- "$out"
  print -u2 "zsh: the set-up did not finish"
  exit 4
fi
print -u2 -rn -- "$out"
zpty -w -n z "$ZT_LINE"$'\t'
while zpty -r z out; do print -u2 -rn -- "$out"; done
zpty -d z
exit 0
'''

FISH_SCRIPT = r'''
set -g fish_complete_path $PPROBE_FISH_EMPTY
source $PPROBE_COMPLETION; or exit 3
complete -C $PPROBE_LINE
'''


class Shell:
    """One shell and its completion file; complete(line) -> [Candidate]."""

    def __init__(self, ctx, name, path):
        self.ctx = ctx
        self.name = name
        self.path = path
        self.binary = shutil.which(name)

    def env(self):
        home = self.ctx.tmp_path("home-" + self.name)
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ)
        env.update(HOME=home, ZDOTDIR=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                   XDG_DATA_HOME=os.path.join(home, ".local/share"),
                   XDG_CACHE_HOME=os.path.join(home, ".cache"), TERM="xterm",
                   PPROBE_COMPLETION=self.path, LC_ALL="C.UTF-8")
        return env

    def run(self, argv, env, line):
        res = self.ctx.run_command(argv, SHELL_TIMEOUT, env=env)
        if res.timed_out or res.rc != 0:
            raise Failure("%s: completing %r failed:\n  %s" % (self.name, line, res.describe()))
        return res


class Bash(Shell):
    def complete(self, line):
        # Words as readline splits them with the default COMP_WORDBREAKS:
        # at blanks, and '=' a word of its own.
        words = []
        for w in line.split(" "):
            for i, piece in enumerate(w.split("=")):
                if i:
                    words.append("=")
                words.append(piece)
        # Empty words are no words, but for the one being completed.
        words = [w for i, w in enumerate(words) if w or i == len(words) - 1]
        env = self.env()
        env["PPROBE_LINE"] = line
        res = self.run([self.binary, "--norc", "--noprofile", "-c", BASH_SCRIPT, "bash"] + words,
                       env, line)
        self.ctx.check(not res.stderr.strip(), "bash: completing %r printed on stderr:%s"
                       % (line, harness.indent(res.stderr)))
        return [Candidate(w, "") for w in res.stdout.splitlines()]


class Zsh(Shell):
    def __init__(self, ctx, name, path):
        super().__init__(ctx, name, path)
        self.fpath = ctx.tmp_path("zsh-fpath")
        os.makedirs(self.fpath, exist_ok=True)
        if os.path.isfile(path):
            shutil.copy(path, os.path.join(self.fpath, "_pprobe"))
        self.setup = ctx.tmp_path("zsh-setup.zsh")
        self.driver = ctx.tmp_path("zsh-driver.zsh")
        with open(self.setup, "w") as f:
            f.write(ZSH_SETUP)
        with open(self.driver, "w") as f:
            f.write(ZSH_DRIVER)
        self.serial = 0

    def complete(self, line):
        self.serial += 1
        out = self.ctx.tmp_path("zsh-out.%d" % self.serial)
        env = self.env()
        env.update(ZT_FPATH=self.fpath, ZT_SETUP=self.setup, ZT_OUT=out, ZT_LINE=line)
        res = self.run([self.binary, "-f", self.driver], env, line)
        screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\r\x07]", "", res.stderr)
        try:
            with open(out) as f:
                recorded = f.read().splitlines()
        except FileNotFoundError:
            recorded = []
        if "done" not in recorded:
            raise Failure("zsh: completing %r did not run to the end; the terminal showed:%s"
                          % (line, harness.indent(screen)))
        errors = [l for l in screen.splitlines() if re.search(r"\b_pprobe\w*:\d+: ", l)]
        self.ctx.check(not errors, "zsh: completing %r raised errors in the completion "
                       "functions:%s" % (line, harness.indent("\n".join(errors))))
        cands = []
        for rec in recorded:
            if rec == "done":
                continue
            _, _iprefix, word, display = rec.split("\t", 3)
            desc = display.split(" -- ", 1)[1].strip() if " -- " in display else ""
            cands.append(Candidate(word, desc))
        return cands


class Fish(Shell):
    def complete(self, line):
        empty = self.ctx.tmp_path("fish-empty")
        os.makedirs(empty, exist_ok=True)
        env = self.env()
        env.update(PPROBE_LINE=line, PPROBE_FISH_EMPTY=empty)
        res = self.run([self.binary, "--no-config", "-c", FISH_SCRIPT], env, line)
        self.ctx.check(not res.stderr.strip(), "fish: completing %r printed on stderr:%s"
                       % (line, harness.indent(res.stderr)))
        cands = []
        for out_line in res.stdout.splitlines():
            word, _, desc = out_line.partition("\t")
            cands.append(Candidate(word, desc))
        return cands


def words(cands):
    return {c.word for c in cands}


def start_sleeper(ctx):
    """A sleep(1) to complete the pid of; waits (no fixed sleep) until it is
    sleep, not the python child before exec."""
    sleep = shutil.which("sleep")
    if not sleep:
        raise Failure("sleep(1) is not installed")
    bg = ctx.start_command([sleep, "600"])
    ok = harness.wait_for(lambda: harness.task_comm(bg.pid, bg.pid) == "sleep", 10)
    if not ok:
        bg.kill()
        raise Failure("sleep (pid %d) did not start: comm %r"
                      % (bg.pid, harness.task_comm(bg.pid, bg.pid)))
    return bg


def check_shell(ctx, shell, table, sleeper_pid, tmp_file):
    what = "%s (%s)" % (shell.name, shell.path)
    describes = shell.name != "bash"   # bash cannot show a description

    def complete(line):
        """The candidates for line; for "-flag=" lines without the "-flag="
        that fish puts before each."""
        cands = shell.complete(line)
        last = line.split(" ")[-1]
        if "=" in last:
            head = last[:last.index("=") + 1]
            cands = [Candidate(c.word[len(head):], c.description) if c.word.startswith(head)
                     else c for c in cands]
        return cands

    # Commands where the command goes.
    got = words(complete("pprobe "))
    ctx.check(got == set(table.commands), "%s: `pprobe ` offers %s, expected the commands %s"
              % (what, sorted(got), table.commands))

    # Flags of each command, with and without the command word.
    forms = [(c, "pprobe %s " % c) for c in table.commands] + [("record", "pprobe ")]
    for command, prefix in forms:
        got = words(complete(prefix + "-"))
        single = {w for w in got if not w.startswith("--")}
        double = {w for w in got if w.startswith("--")}
        expected = table.single_dash(command)
        ctx.check(single == expected, "%s: `%s-` offers %s; '%s' takes %s (missing %s, not "
                  "flags of '%s' %s)" % (what, prefix, sorted(single), command, sorted(expected),
                                         sorted(expected - single), command,
                                         sorted(single - expected)))
        ctx.check(double <= table.double_dash(command),
                  "%s: `%s-` offers %s, not flags of '%s'"
                  % (what, prefix, sorted(double - table.double_dash(command)), command))
        got = words(complete(prefix + "--"))
        expected = table.double_dash(command)
        ctx.check(got == expected, "%s: `%s--` offers %s, expected %s (missing %s, extra %s)"
                  % (what, prefix, sorted(got), sorted(expected), sorted(expected - got),
                     sorted(got - expected)))

    # Values.
    value_cases = []
    if "format" in table.short:
        for command, formats in (("record", RECORD_FORMATS), ("dump", DUMP_FORMATS)):
            if command in table.takes["format"]:
                value_cases.append((command, "pprobe %s -format " % command, "format", formats))
        value_cases.append(("record", "pprobe --format=", "format", RECORD_FORMATS))
    if "mode" in table.short:
        for command in sorted(table.takes["mode"]):
            value_cases.append((command, "pprobe %s -mode " % command, "mode", MODES))
        value_cases.append(("record", "pprobe -mode ", "mode", MODES))
    for command, line, flag, expected in value_cases:
        got = words(complete(line))
        ctx.check(got == expected, "%s: `%s` offers %s, expected %s"
                  % (what, line, sorted(got), sorted(expected)))
        for value in sorted(got):
            res = ctx.run_pprobe([command, "-%s=%s" % (flag, value), "-version"], PROBE_TIMEOUT)
            ctx.check(res.rc == 0, "%s: `%s` offers %r, which the parser refuses:\n  %s"
                      % (what, line, value, res.describe()))

    # Process ids, and thread ids of the -p process.
    kthread = harness.find_kernel_thread()
    for line in ("pprobe -p ", "pprobe dump -pid ", "pprobe top --pid="):
        cands = complete(line)
        by_word = {c.word: c for c in cands}
        ctx.check(str(sleeper_pid) in by_word, "%s: `%s` does not offer the pid %d of a running "
                  "sleep (offered %d candidates: %s...)"
                  % (what, line, sleeper_pid, len(cands), sorted(by_word)[:20]))
        ctx.check(all(w.isdigit() for w in by_word), "%s: `%s` offers non-pids: %s"
                  % (what, line, sorted(w for w in by_word if not w.isdigit())[:20]))
        if kthread is not None:
            ctx.check(str(kthread) not in by_word, "%s: `%s` offers the kernel thread %d, "
                      "which pprobe refuses" % (what, line, kthread))
        if describes and str(sleeper_pid) in by_word:
            desc = by_word[str(sleeper_pid)].description
            ctx.check("sleep" in desc, "%s: `%s`: the pid %d of sleep is described as %r, "
                      "expected its name" % (what, line, sleeper_pid, desc))
    tids = {str(t) for t in harness.task_ids(sleeper_pid)}
    for line in ("pprobe -p %d -t " % sleeper_pid, "pprobe top --pid=%d -tids " % sleeper_pid):
        cands = complete(line)
        ctx.check(words(cands) == tids, "%s: `%s` offers %s, expected the threads of %d: %s"
                  % (what, line, sorted(words(cands)), sleeper_pid, sorted(tids)))
        if describes:
            ctx.check(all("sleep" in c.description for c in cands),
                      "%s: `%s`: expected each thread described by its name 'sleep', got %s"
                      % (what, line, [tuple(c) for c in cands]))

    # Files for -o.
    stem = tmp_file[:-len("ut.pb.gz")]
    for line in ("pprobe -o " + stem, "pprobe dump --output " + stem):
        got = words(complete(line))
        ctx.check(any(w.endswith(os.path.basename(tmp_file)) for w in got),
                  "%s: `%s` does not offer the file %s (offered %s)"
                  % (what, line, tmp_file, sorted(got)))


def main(ctx):
    ctx.require_pprobe()
    src = source_dir()
    files = collections.OrderedDict([
        ("bash", os.path.join(src, "completions", "pprobe.bash")),
        ("zsh", os.path.join(src, "completions", "_pprobe")),
        ("fish", os.path.join(src, "completions", "pprobe.fish")),
    ])
    table = read_table(ctx)
    probe_parser(ctx, table)
    ctx.note("option table: commands %s; flags %s" % (table.commands, ", ".join(
        "-%s%s [%s]" % (f, " (-%s)" % table.short[f] if table.short[f] else "",
                        describe_commands(table.takes[f], table)) for f in table.short)))

    help_codes = check_help(ctx, table)
    check_man(ctx, table, help_codes, os.path.join(src, "doc", "pprobe.1"))
    check_files_name_flags(ctx, table, files)

    shells = []
    for name, path in files.items():
        cls = {"bash": Bash, "zsh": Zsh, "fish": Fish}[name]
        shell = cls(ctx, name, path)
        if not shell.binary:
            ctx.report("%s is not installed (Debian package %s; dev.sh installs it): its "
                       "completion file %s is untested" % (name, name, path))
            continue
        if not os.path.isfile(path):
            ctx.report("no %s completion file at %s" % (name, path))
            continue
        shells.append(shell)

    tmp_file = ctx.tmp_path("compl-out.pb.gz")
    with open(tmp_file, "w"):
        pass
    sleeper = start_sleeper(ctx)
    try:
        for shell in shells:
            before = len(ctx.failures)
            try:
                check_shell(ctx, shell, table, sleeper.pid, tmp_file)
            except Failure as e:
                ctx.report(str(e))
            ctx.note("%s: %s" % (shell.name, "ok" if len(ctx.failures) == before else
                                 "%d failure(s)" % (len(ctx.failures) - before)))
    finally:
        sleeper.kill()


if __name__ == "__main__":
    harness.run(main)
