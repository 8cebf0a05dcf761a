package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/netpanel/netpanel/web/auth"
)

// flagValues says how the completion completes each flag's value: "dir",
// "file", "netns" (the names in /run/netns, as ip netns lists them), a
// list of words, or "" for free text. A test checks that every flag
// taking a value has an entry, so a new flag gets a decision.
var flagValues = map[string]string{
	"listen":                 "",
	"metrics-listen":         "",
	"netns":                  "netns",
	"demo-name":              "",
	"state-dir":              "dir",
	"rt-tables-dir":          "dir",
	"rt-tables-owned":        "dir",
	"log-level":              "words:debug info warn error",
	"tls-cert":               "file",
	"tls-key":                "file",
	"confirm-timeout":        "",
	"networkd-dir":           "dir",
	"networkd-conf-dir":      "dir",
	"docker-dir":             "dir",
	"docker-socket":          "file",
	"docker-restart-command": "",
	"nftables-file":          "file",
	"memory-limit":           "",
	"role":                   "words:" + string(auth.RoleAdmin) + " " + string(auth.RoleViewer) + " " + string(auth.RoleMetrics),
	"note":                   "",
}

// writeBashCompletion writes the bash completion script: the commands,
// the flags each takes and their values, from the same tables and flag
// set the command line parses.
func writeBashCompletion(w io.Writer) error {
	flags := flagDocs()
	var valueFlags []string
	kinds := map[string][]string{} // "dir" -> flag names
	for _, f := range flags {
		if f.Arg == "" {
			continue
		}
		valueFlags = append(valueFlags, f.Name)
		kind, ok := flagValues[f.Name]
		if !ok {
			return fmt.Errorf("flag --%s takes a value but flagValues does not say how to complete it", f.Name)
		}
		if kind != "" {
			kinds[kind] = append(kinds[kind], f.Name)
		}
	}
	type cmdFlags struct{ Name, Flags string }
	var perCommand []cmdFlags
	for _, h := range commandHelp {
		var names []string
		for _, f := range flags {
			if slices.Contains(f.Commands, h.name) {
				names = append(names, "--"+f.Name)
			}
		}
		name := h.name
		if name == "serve" {
			name = ""
		}
		perCommand = append(perCommand, cmdFlags{name, strings.Join(names, " ")})
	}
	type valueCase struct{ Pattern, Action string }
	var values []valueCase
	var kindNames []string
	for k := range kinds {
		kindNames = append(kindNames, k)
	}
	slices.Sort(kindNames)
	for _, k := range kindNames {
		var action string
		switch {
		case k == "dir":
			action = `compopt -o filenames; COMPREPLY=($(compgen -d -- "$cur"))`
		case k == "file":
			action = `compopt -o filenames; COMPREPLY=($(compgen -f -- "$cur"))`
		case k == "netns":
			// ip netns add makes /run/netns/NAME.
			action = `COMPREPLY=($(compgen -W "$(command ls -1 /run/netns 2>/dev/null)" -- "$cur"))`
		case strings.HasPrefix(k, "words:"):
			action = `COMPREPLY=($(compgen -W "` + strings.TrimPrefix(k, "words:") + `" -- "$cur"))`
		default:
			return fmt.Errorf("unknown completion kind %q", k)
		}
		values = append(values, valueCase{strings.Join(kinds[k], "|"), action})
	}
	groupsOrdered := map[string]string{}
	var groupNames []string
	for g, verbs := range groups {
		groupsOrdered[g] = strings.Join(verbs, " ")
		groupNames = append(groupNames, g)
	}
	slices.Sort(groupNames)
	return bashTemplate.Execute(w, map[string]any{
		"ValueFlags": strings.Join(valueFlags, " "),
		"Commands":   perCommand,
		"Values":     values,
		"Words":      strings.Join(commandWords(true), " "),
		"Groups":     groupsOrdered,
		"GroupNames": strings.Join(groupNames, "|"),
	})
}

var bashTemplate = template.Must(template.New("bash").Parse(`# bash completion for netpanel, made by "netpanel completion bash" from the
# commands and flags netpanel parses. Install it as
# /usr/share/bash-completion/completions/netpanel, or: source <(netpanel completion bash)

_netpanel() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= flag=
	(( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD-1]}
	# bash splits --flag=value at the "=" (COMP_WORDBREAKS).
	if [[ $cur == "=" ]]; then
		flag=$prev cur=
	elif [[ $prev == "=" ]] && (( COMP_CWORD > 1 )); then
		flag=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $prev == -* ]]; then
		flag=$prev
	fi
	flag=${flag#-}
	flag=${flag#-}

	local value_flags=" {{.ValueFlags}} "
	if [[ -n $flag && $value_flags == *" $flag "* ]]; then
		case $flag in
{{- range .Values}}
		{{.Pattern}}) {{.Action}} ;;
{{- end}}
		*) COMPREPLY=() ;;
		esac
		return
	fi

	# The command so far: the words that are neither flags nor their values.
	local i w name words=()
	for (( i = 1; i < COMP_CWORD; i++ )); do
		w=${COMP_WORDS[i]}
		if [[ $w == "=" ]]; then
			(( i++ ))
			continue
		fi
		if [[ $w == -* ]]; then
			name=${w#-}
			name=${name#-}
			if [[ ${COMP_WORDS[i+1]} != "=" && $value_flags == *" $name "* ]]; then
				(( i++ ))
			fi
			continue
		fi
		words+=("$w")
	done
	# The command is its first word, or two for the groups; an operand
	# (NAME, ID) may follow.
	local cmd=${words[0]}
	case $cmd in
	{{.GroupNames}}) (( ${#words[@]} > 1 )) && cmd+=" ${words[1]}" ;;
	esac

	local flags=
	case $cmd in
{{- range .Commands}}
	"{{.Name}}") flags="{{.Flags}}" ;;
{{- end}}
	*) flags="--state-dir" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return
	fi
	case ${#words[@]} in
	0) COMPREPLY=($(compgen -W "{{.Words}}" -- "$cur")) ;;
	1)
		case ${words[0]} in
{{- range $g, $verbs := .Groups}}
		{{$g}}) COMPREPLY=($(compgen -W "{{$verbs}}" -- "$cur")) ;;
{{- end}}
		*) COMPREPLY=() ;;
		esac
		;;
	*) COMPREPLY=() ;;
	esac
}
complete -F _netpanel netpanel
`))
