package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// verb is one subcommand of a command with verbs (`beacon catalog show`,
// `beacon prices set ...`).
type verb struct {
	name    string
	usage   string // its arguments, e.g. "FILE"
	summary string
	// run defines its flags on fs, then calls fs.parse with args.
	run func(ctx context.Context, env *Env, fs *verbFlags, args []string) int
}

// registerVerbs registers a command whose first argument is one of verbs;
// its usage line lists them in their order.
func registerVerbs(name, summary string, verbs []verb) {
	parts := make([]string, len(verbs))
	for i, v := range verbs {
		parts[i] = strings.TrimSpace(v.name + " " + v.usage)
	}
	c := Command{Name: name, Summary: summary, Usage: strings.Join(parts, " | ")}
	c.Run = func(ctx context.Context, env *Env, args []string) int { return runVerb(ctx, env, c, verbs, args) }
	Register(c)
}

// runVerb dispatches args[0] to its verb; no verb or --help lists them.
func runVerb(ctx context.Context, env *Env, c Command, verbs []verb, args []string) int {
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: beacon %s %s\n%s\n\nCommands:\n", c.Name, c.Usage, c.Summary)
		lines, width := make([]string, len(verbs)), 0
		for i, v := range verbs {
			lines[i] = strings.TrimSpace("beacon " + c.Name + " " + v.name + " " + v.usage)
			width = max(width, len(lines[i]))
		}
		for i, v := range verbs {
			fmt.Fprintf(w, "  %-*s  %s\n", width, lines[i], v.summary)
		}
	}
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		return ExitOK
	}
	for _, v := range verbs {
		if v.name == args[0] {
			fs := &verbFlags{FlagSet: NewFlagSet(env, Command{Name: c.Name + " " + v.name, Usage: v.usage, Summary: v.summary})}
			return v.run(ctx, env, fs, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "beacon %s: unknown command %q\n\n", c.Name, args[0])
	usage(env.Stderr)
	return ExitUsage
}

// verbFlags parses a verb's flags and positional arguments (flags may
// come after them, as people type them).
type verbFlags struct {
	*flag.FlagSet
	pos []string
}

// parse stops the verb (with the code to return) after --help, a bad flag
// or a number of arguments outside min..max.
func (f *verbFlags) parse(args []string, min, max int) (int, bool) {
	pos, code, ok := parseWithName(f.FlagSet, args)
	if !ok {
		return code, false
	}
	if len(pos) < min || len(pos) > max {
		fmt.Fprintf(f.Output(), "%s: wrong number of arguments\n", f.Name())
		f.Usage()
		return ExitUsage, false
	}
	f.pos = pos
	return 0, true
}

// Arg is the i-th positional argument.
func (f *verbFlags) Arg(i int) string { return f.pos[i] }
