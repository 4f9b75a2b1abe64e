package descriptor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// CLI describes the command line as the CLI defines it: the single source
// of truth the descriptors are checked against.
type CLI struct {
	Version string
	// Image is the container image, repository:version.
	Image string
	// Flags maps each long flag name to its kind: "integer", "string" or
	// "bool". Help and version are left out.
	Flags map[string]string
	// Required lists the flags every descriptor of the remap must pass.
	Required []string
	// Commands are flags that make dicom-remap another command
	// (--print-range, --merge-ranges): allowed, and then Required does not
	// apply.
	Commands []string
	// ExitCodes are the documented failure codes.
	ExitCodes []int
}

// BoutiquesOmits lists the CLI flags the Boutiques descriptor leaves out
// on purpose, and why.
var BoutiquesOmits = map[string]string{
	"qc-file": "a picture at a path of the user's choosing is an output no descriptor can declare, " +
		"and CBRAIN saves only declared outputs: --qc puts it in the output directory, which is saved",
}

// CheckBoutiques returns every way the Boutiques descriptor disagrees with
// the CLI.
func CheckBoutiques(cli CLI, b *Boutiques) []string {
	var p []string
	if b.ToolVersion != cli.Version {
		p = append(p, fmt.Sprintf("boutiques: tool-version %q, CLI version %q", b.ToolVersion, cli.Version))
	}
	if b.ContainerImage.Image != cli.Image || b.ContainerImage.Type != "docker" {
		p = append(p, fmt.Sprintf("boutiques: container-image %s %q, want docker %q", b.ContainerImage.Type, b.ContainerImage.Image, cli.Image))
	}
	if got := b.ErrorCodeSet(); !slices.Equal(got, cli.ExitCodes) {
		p = append(p, fmt.Sprintf("boutiques: error-codes %v, CLI exit codes %v", got, cli.ExitCodes))
	}
	seen := map[string]bool{}
	positional := 0
	for _, in := range b.Inputs {
		if strings.Contains(in.ID, "-") {
			p = append(p, fmt.Sprintf("boutiques: input id %q has '-': use '_'", in.ID))
		}
		if in.ValueKey == "" || !strings.Contains(b.CommandLine, in.ValueKey) {
			p = append(p, fmt.Sprintf("boutiques: input %s: value-key %q not in the command line", in.ID, in.ValueKey))
		}
		if in.Flag == "" {
			positional++
			if in.Type != "File" {
				p = append(p, fmt.Sprintf("boutiques: input %s has no flag and is not the input file", in.ID))
			}
			continue
		}
		name := strings.TrimPrefix(in.Flag, "--")
		kind, ok := cli.Flags[name]
		if !ok {
			p = append(p, fmt.Sprintf("boutiques: input %s: flag %s is not a CLI flag", in.ID, in.Flag))
			continue
		}
		seen[name] = true
		want := map[string]string{"Flag": "bool", "String": "string", "Number": "integer", "File": "string"}[in.Type]
		if in.Type == "Number" && !in.Integer {
			want = "number"
		}
		if want != kind {
			p = append(p, fmt.Sprintf("boutiques: input %s is %s (%s), CLI flag %s is %s", in.ID, in.Type, want, in.Flag, kind))
		}
		if in.Type != "Flag" && (in.RawSeparator == nil || *in.RawSeparator != "=") {
			p = append(p, fmt.Sprintf("boutiques: input %s: use command-line-flag-separator \"=\" so negative values cannot pass for flags", in.ID))
		}
	}
	if positional != 1 {
		p = append(p, fmt.Sprintf("boutiques: %d positional inputs, the CLI takes one INPUT", positional))
	}
	for name := range cli.Flags {
		_, omitted := BoutiquesOmits[name]
		if !seen[name] && !omitted {
			p = append(p, fmt.Sprintf("boutiques: CLI flag --%s has no input", name))
		}
		if seen[name] && omitted {
			p = append(p, fmt.Sprintf("boutiques: CLI flag --%s has an input but BoutiquesOmits leaves it out", name))
		}
	}
	for _, o := range b.OutputFiles {
		if strings.Contains(o.ID, "-") {
			p = append(p, fmt.Sprintf("boutiques: output id %q has '-': use '_'", o.ID))
		}
	}
	for _, key := range []string{"cbrain:author", "cbrain:readonly-input-files"} {
		if _, ok := b.Custom[key]; !ok {
			p = append(p, "boutiques: custom lacks "+key)
		}
	}
	slices.Sort(p)
	return p
}

var flagInCommand = regexp.MustCompile(`(?:^|\s)--([a-z][a-z-]*)`)

// checkFlags checks that every flag a command uses exists and that the
// required ones are there.
func checkFlags(who string, cli CLI, used []string) []string {
	var p []string
	for _, f := range used {
		if _, ok := cli.Flags[f]; !ok {
			p = append(p, fmt.Sprintf("%s: --%s is not a CLI flag", who, f))
		}
	}
	for _, r := range cli.Required {
		if !slices.Contains(used, r) {
			p = append(p, fmt.Sprintf("%s: does not pass the required --%s", who, r))
		}
	}
	return p
}

// CheckCWL returns every way a CWL tool or workflow disagrees with the
// CLI.
func CheckCWL(cli CLI, c *CWL) []string {
	var p []string
	if c.CWLVersion != "v1.2" || (c.Class != "CommandLineTool" && c.Class != "Workflow") {
		p = append(p, fmt.Sprintf("cwl: %s %s, want v1.2 CommandLineTool or Workflow", c.CWLVersion, c.Class))
	}
	if c.Version != cli.Version {
		p = append(p, fmt.Sprintf("cwl: s:version %q, want %q", c.Version, cli.Version))
	}
	if _, js := c.Requirements["InlineJavascriptRequirement"]; js {
		p = append(p, "cwl: InlineJavascriptRequirement: clinical hosts have no Node.js")
	}
	if c.Class == "Workflow" {
		return p
	}
	base, _ := c.BaseCommand.([]any)
	if s, ok := c.BaseCommand.(string); ok {
		base = []any{s}
	}
	if len(base) == 0 || base[0] != "dicom-remap" {
		p = append(p, fmt.Sprintf("cwl: baseCommand %v", c.BaseCommand))
	}
	if c.dockerPull() != cli.Image {
		p = append(p, fmt.Sprintf("cwl: DockerRequirement %q, want %q", c.dockerPull(), cli.Image))
	}
	if v := c.softwareVersions("dicom-remap"); !slices.Equal(v, []string{cli.Version}) {
		p = append(p, fmt.Sprintf("cwl: SoftwareRequirement versions %v, want [%s]", v, cli.Version))
	}
	var used []string
	command := false
	for _, b := range base[min(1, len(base)):] {
		f := flagName(fmt.Sprint(b))
		if slices.Contains(cli.Commands, f) {
			command = true
			continue
		}
		used = append(used, f)
	}
	for _, a := range c.Arguments {
		// "--" ends the flags before an operand given by an argument.
		if a.Prefix != "" && a.Prefix != "--" {
			used = append(used, flagName(a.Prefix))
		}
	}
	for name, in := range c.Inputs {
		if in.InputBinding == nil || in.InputBinding.Prefix == "--" {
			continue
		}
		f := flagName(in.InputBinding.Prefix)
		used = append(used, f)
		if kind := cli.Flags[f]; kind == "integer" && in.Type != "int" && in.Type != "long" {
			p = append(p, fmt.Sprintf("cwl: input %s is %v, CLI flag --%s is an integer", name, in.Type, f))
		}
	}
	if command {
		// Another command: its flags must exist, none is required.
		for _, f := range used {
			if _, ok := cli.Flags[f]; !ok {
				p = append(p, fmt.Sprintf("cwl: --%s is not a CLI flag", f))
			}
		}
	} else {
		p = append(p, checkFlags("cwl", cli, used)...)
	}
	codes := append(append([]int(nil), c.PermanentFailCodes...), c.TemporaryFailCodes...)
	slices.Sort(codes)
	if !slices.Equal(codes, cli.ExitCodes) {
		p = append(p, fmt.Sprintf("cwl: fail codes %v, CLI exit codes %v", codes, cli.ExitCodes))
	}
	slices.Sort(p)
	return p
}

// flagName is the flag of a prefix ("--min=") or of a flag given with
// its value ("--learn-landmarks=landmarks.json").
func flagName(prefix string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(prefix, "--"), "=")
	return name
}

// CheckGalaxy returns every way the Galaxy wrapper disagrees with the CLI.
func CheckGalaxy(cli CLI, g *Galaxy) []string {
	var p []string
	if !strings.HasPrefix(g.Version, cli.Version+"+galaxy") {
		p = append(p, fmt.Sprintf("galaxy: version %q, want %s+galaxyN", g.Version, cli.Version))
	}
	if g.dockerImage() != cli.Image {
		p = append(p, fmt.Sprintf("galaxy: docker container %q, want %q", g.dockerImage(), cli.Image))
	}
	if g.Command.DetectErrors != "exit_code" {
		p = append(p, "galaxy: command lacks detect_errors=\"exit_code\"")
	}
	var used []string
	// Boolean parameters put their truevalue or falsevalue in the command.
	text := g.Command.Text
	for _, in := range g.Inputs {
		if in.Type == "boolean" {
			text += " " + in.TrueValue + " " + in.FalseValue
		}
	}
	for _, m := range flagInCommand.FindAllStringSubmatch(text, -1) {
		used = append(used, m[1])
	}
	p = append(p, checkFlags("galaxy", cli, used)...)
	for _, in := range g.Inputs {
		if kind := cli.Flags[in.Name]; kind == "integer" && in.Type != "integer" {
			p = append(p, fmt.Sprintf("galaxy: param %s is %s, CLI flag is an integer", in.Name, in.Type))
		}
	}
	if len(g.Tests) == 0 || len(g.DOIs) == 0 || strings.TrimSpace(g.Help) == "" {
		p = append(p, "galaxy: tests, citations and help are all required")
	}
	slices.Sort(p)
	return p
}
