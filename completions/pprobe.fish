# fish completion for pprobe(1).
#
# Installed as share/fish/vendor_completions.d/pprobe.fish, where fish loads
# it the first time pprobe is completed.
#
# pprobe's flags are Go style: -name and --name are the same flag, so each is
# declared as an old-style option (-o name), a long one (-l name) and, where
# it has one, its letter (-s x).  The flags of each command mirror the option
# table in src/cli.c; tests/integration/test_completions.py fails when they
# drift apart.

# The command: the first argument if it is one, else record (the default).
function __pprobe_command
    set -l tokens (commandline -opc)
    if set -q tokens[2]; and contains -- $tokens[2] record dump top
        echo $tokens[2]
    else
        echo record
    end
end

# True if the command being completed is one of $argv.
function __pprobe_command_is
    contains -- (__pprobe_command) $argv
end

# True while completing the first argument (where the command goes).
function __pprobe_at_command
    set -l tokens (commandline -opc)
    test (count $tokens) -eq 1
end

# "PID<tab>name" for the processes pprobe can attach to: kernel threads
# (PF_KTHREAD in stat's flags) and zombies are left out, and so is this
# shell, which would be pprobe's parent.  The stat files are read by one cat,
# which is silent about processes that exit meanwhile (fish's own redirection
# would warn on the terminal).
function __pprobe_pids
    # (fish globs have no [0-9]: keep the numeric names in /proc)
    set -l pids (string replace -rf '^/proc/([0-9]+)$' '$1' -- /proc/*)
    __pprobe_stats /proc/$pids/stat
end

# "ID<tab>name" for each stat file in $argv that is not a kernel thread's,
# a zombie's or this shell's.
function __pprobe_stats
    for stat in (command cat $argv 2>/dev/null)
        set -l m (string match -r '^([0-9]+) \((.*)\) (.*)$' -- $stat); or continue
        test "$m[2]" = "$fish_pid"; and continue
        set -l f (string split ' ' -- $m[4])
        test "$f[1]" = Z; and continue
        test (math "bitand($f[7], 2097152)") -ne 0; and continue
        printf '%s\t%s\n' $m[2] $m[3]
    end
end

# The value of -p/-pid/--pid on the command line, if any.
function __pprobe_target
    set -l tokens (commandline -opc)
    set -l pid
    for i in (seq 2 (count $tokens))
        set -l w $tokens[$i]
        if contains -- $w -p -pid --pid
            set -q tokens[(math $i + 1)]; and set w $tokens[(math $i + 1)]
        else
            # -pid=N, --pid=N, -pN
            set w (string replace -rf '^(?:--?pid=|-p)([0-9]+)$' '$1' -- $w); or continue
        end
        string match -qr '^[0-9]+$' -- $w; and set pid $w
    end
    echo $pid
end

# "TID<tab>name" for the threads of the -p process; -t takes a comma
# separated list, so what is before the last comma is kept, and the ids
# already in it are not offered again.
function __pprobe_tids
    set -l pid (__pprobe_target)
    test -n "$pid"; or return
    set -l token (commandline -ct)
    set -l head ''
    if string match -q '*,*' -- $token
        set head (string replace -r ',[^,]*$' ',' -- $token)
        set head (string replace -r '^-[^0-9]*' '' -- $head)
    end
    set -l given (string split ',' -- $head)
    set -l tids (string replace -rf '^.*/([0-9]+)$' '$1' -- /proc/$pid/task/*)
    for line in (__pprobe_stats /proc/$pid/task/$tids/stat)
        set -l tid (string replace -r '\t.*' '' -- $line)
        contains -- $tid $given; or printf '%s%s\n' $head $line
    end
end

complete -c pprobe -e
complete -c pprobe -f

complete -c pprobe -n __pprobe_at_command -a record -d 'Sample the threads on CPU and write a profile (default)'
complete -c pprobe -n __pprobe_at_command -a dump -d 'Show every thread: state, what it waits on, stack'
complete -c pprobe -n __pprobe_at_command -a top -d 'Live view of the hottest functions'

# All commands
complete -c pprobe -s p -o pid -l pid -x -a '(__pprobe_pids)' -d 'Process to examine (required)'
complete -c pprobe -s q -o quiet -l quiet -d 'Errors only: no status line, no Saved line, no summary'
complete -c pprobe -s v -o verbose -l verbose -d 'Print how long threads were stopped'
complete -c pprobe -s h -o help -l help -d 'Show the help'
complete -c pprobe -o version -l version -d 'Show the version'
complete -c pprobe -o debuginfod -l debuginfod -d 'Fetch missing debug info from debuginfod servers'
complete -c pprobe -o debuginfod-timeout -l debuginfod-timeout -x -d 'Seconds all the fetches of a run may take (default 30)'

# record
complete -c pprobe -n '__pprobe_command_is record' -o seconds -l seconds -x -d 'Length of the sampling window (default 30)'
complete -c pprobe -n '__pprobe_command_is record' -o folded-unit -l folded-unit -x -a 'ns\t"CPU or wall nanoseconds (default)" samples\t"counts"' -d 'Values of folded output'
complete -c pprobe -n '__pprobe_command_is record' -o nodecount -l nodecount -x -d 'Rows of the text report and the summary (default 10)'
complete -c pprobe -n '__pprobe_command_is record top' -o kernel -l kernel -d "Wall mode only: add blocked threads' kernel stacks (root)"
complete -c pprobe -n '__pprobe_command_is record' -o format -l format -x -a 'pprof\t"gzipped profile.proto" folded\t"collapsed stacks" text\t"top-like report" svg\t"flame graph"' -d 'Output format (default: from the -o extension)'

# record and top
complete -c pprobe -n '__pprobe_command_is record top' -o hz -l hz -x -d 'Samples per second per thread, 1-10000 (default 100)'
complete -c pprobe -n '__pprobe_command_is record top' -s t -o tids -l tids -x -a '(__pprobe_tids)' -d 'Sample only these threads (comma separated)'
complete -c pprobe -n '__pprobe_command_is record top' -o sampler -l sampler -x -a 'auto\t"perf events if allowed, else ptrace (default)" perf\t"kernel timer, threads not stopped" ptrace\t"stop each thread"' -d 'Where CPU samples come from'
complete -c pprobe -n '__pprobe_command_is record top' -o mode -l mode -x -a 'cpu\t"threads on CPU (default)" wall\t"every thread, running or not"' -d 'What to sample'

# record and dump
complete -c pprobe -n '__pprobe_command_is record dump' -s o -o output -l output -r -F -d 'Where to write (- for standard output)'

# dump
complete -c pprobe -n '__pprobe_command_is dump' -o format -l format -x -a 'text\t"threads, locks, stacks" json\t"the same for scripts" pprof\t"goroutine-like profile"' -d 'Output format (default: from the -o extension)'
complete -c pprobe -n '__pprobe_command_is dump' -o group -l group -d 'Fold threads with identical stacks'
