# bash completion for pprobe(1)                              -*- shell-script -*-
#
# Installed as share/bash-completion/completions/pprobe, where bash-completion
# loads it on first use; it also works sourced on its own (it needs none of
# bash-completion's helpers).
#
# The flags of each command mirror the option table in src/cli.c;
# tests/integration/test_completions.py fails when they drift apart.

# Long names of each command's flags, and their one-letter aliases.
_pprobe_flags_record="pid seconds hz output tids mode sampler format folded-unit nodecount kernel debuginfod debuginfod-timeout quiet verbose help version"
_pprobe_flags_dump="pid output format group debuginfod debuginfod-timeout quiet verbose help version"
_pprobe_flags_top="pid hz tids mode sampler kernel debuginfod debuginfod-timeout quiet verbose help version"
_pprobe_short_record="p o t q v h"
_pprobe_short_dump="p o q v h"
_pprobe_short_top="p t q v h"

# Flags that take a value (long names and letters).
_pprobe_with_value=" pid p seconds hz output o tids t mode sampler format folded-unit nodecount debuginfod-timeout "

# Adds to COMPREPLY the pids starting with $1 of processes pprobe can attach
# to: kernel threads (PF_KTHREAD in stat's flags) and zombies are left out,
# and so is this shell, which would be pprobe's parent.  bash cannot show a
# description beside a candidate, so these are bare pids.
_pprobe_pids()
{
	local d pid stat rest
	local -a f
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ $pid == "$1"* && $pid != "$$" ]] || continue
		read -r stat 2>/dev/null <"$d/stat" || continue
		rest=${stat##*) }
		read -r -a f <<<"$rest"
		[[ ${f[0]} != Z ]] || continue
		((f[6] & 0x200000)) && continue
		COMPREPLY+=("$pid")
	done
}

# The value of -p/-pid/--pid on the command line so far, if any.
_pprobe_target()
{
	local i w
	for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
		((i == COMP_CWORD)) && continue
		w=${COMP_WORDS[i]}
		case $w in
		-p | -pid | --pid)
			if [[ ${COMP_WORDS[i + 1]} == "=" ]]; then
				w=${COMP_WORDS[i + 2]}
			else
				w=${COMP_WORDS[i + 1]}
			fi
			;;
		-pid=* | --pid=*) w=${w#*=} ;;
		-p[0-9]*) w=${w#-p} ;;
		*) continue ;;
		esac
		[[ $w =~ ^[0-9]+$ ]] && echo "$w"
	done | tail -n 1
}

# Adds to COMPREPLY the thread ids of the -p process for the -t list $1:
# what is before its last comma is kept, ids already listed are left out.
_pprobe_tids()
{
	local pid head="" last=$1 d tid
	pid=$(_pprobe_target)
	[[ -n $pid ]] || return
	if [[ $last == *,* ]]; then
		head=${last%,*},
		last=${last##*,}
	fi
	for d in /proc/"$pid"/task/[0-9]*; do
		tid=${d##*/}
		[[ $tid == "$last"* && ",$head" != *",$tid,"* ]] || continue
		COMPREPLY+=("$head$tid")
	done
}

# Completes the value $2 of flag $1 (given without dashes) for command $3.
_pprobe_value()
{
	local flag=$1 cur=$2 cmd=$3
	case $flag in
	p | pid) _pprobe_pids "$cur" ;;
	t | tids) _pprobe_tids "$cur" ;;
	mode) mapfile -t COMPREPLY < <(compgen -W "cpu wall" -- "$cur") ;;
	sampler) mapfile -t COMPREPLY < <(compgen -W "auto perf ptrace" -- "$cur") ;;
	folded-unit) mapfile -t COMPREPLY < <(compgen -W "ns samples" -- "$cur") ;;
	format)
		if [[ $cmd == dump ]]; then
			mapfile -t COMPREPLY < <(compgen -W "text json pprof" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "pprof folded text svg" -- "$cur")
		fi
		;;
	o | output)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	esac
	# seconds, hz, nodecount, debuginfod-timeout: a number; nothing to offer.
}

_pprobe()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cword=$COMP_CWORD
	local prev=${COMP_WORDS[COMP_CWORD - 1]} cmd=record flag=""
	COMPREPLY=()

	# The command, if given, is the first word.
	case ${COMP_WORDS[1]} in
	record | dump | top) ((cword > 1)) && cmd=${COMP_WORDS[1]} ;;
	esac
	if ((cword == 1)) && [[ $cur != -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "record dump top" -- "$cur")
		return
	fi

	# A flag's value: "-flag VALUE", "-flag=VALUE" split by bash at '='
	# (COMP_WORDBREAKS), or "-flag=VALUE" as one word.
	if [[ $prev == "=" ]] && ((cword >= 3)); then
		flag=${COMP_WORDS[cword - 2]}
	elif [[ $cur == -*=* ]]; then
		flag=${cur%%=*}
		cur=${cur#*=}
		flag=${flag#-}
		flag=${flag#-}
		_pprobe_value "$flag" "$cur" "$cmd"
		COMPREPLY=("${COMPREPLY[@]/#/${COMP_WORDS[COMP_CWORD]%%=*}=}")
		return
	elif [[ $prev == -* ]]; then
		flag=$prev
	fi
	if [[ -n $flag ]]; then
		flag=${flag#-}
		flag=${flag#-}
		if [[ $_pprobe_with_value == *" $flag "* ]]; then
			_pprobe_value "$flag" "$cur" "$cmd"
			return
		fi
	fi

	if [[ $cur == -* ]]; then
		local names shorts words=() w
		case $cmd in
		dump) names=$_pprobe_flags_dump shorts=$_pprobe_short_dump ;;
		top) names=$_pprobe_flags_top shorts=$_pprobe_short_top ;;
		*) names=$_pprobe_flags_record shorts=$_pprobe_short_record ;;
		esac
		if [[ $cur == --* ]]; then
			for w in $names; do words+=("--$w"); done
		else
			for w in $shorts $names; do words+=("-$w"); done
		fi
		mapfile -t COMPREPLY < <(compgen -W "${words[*]}" -- "$cur")
	fi
}

complete -F _pprobe pprobe
