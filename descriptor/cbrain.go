package descriptor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CBRAINRules are what CBRAIN (github.com/aces/cbrain: BrainPortal/lib/
// boutiques_support.rb, app/models/tool_config.rb, cluster_task.rb,
// boutiques_portal_task.rb and boutiques_cluster_task.rb, read on
// 2026-12-07) requires of a Boutiques descriptor beyond bosh. Breaking the
// first four aborts CBRAIN's boot or a task's container; the others lose
// results or make the form offer values the task cannot use.
var CBRAINRules = []string{
	"cbrain-schema-keys",        // only keys CBRAIN's older schema copy knows: its RestrictedHash raises at boot on others
	"cbrain-path-template",      // every output has a path-template: CBRAIN globs it (no conditional-path-template)
	"cbrain-container-index",    // a docker image says "index": "docker://" (see CBRAINDockerIndex)
	"cbrain-integrator-modules", // modules named in custom exist in CBRAIN's core (constantize at boot)
	"cbrain-one-required-file",  // one required File input, not a list: selecting N files launches N tasks
	"cbrain-string-values",      // String defaults and test values pass the form's check
	"cbrain-saved-once",         // no saved output lies inside another (it would be saved twice)
	"cbrain-output-dir-name",    // a String that is a saved output's whole path is one name: the output stays in the work directory
	"cbrain-resources",          // suggested-resources cover the measured worst case (CBRAIN makes them the batch limits)
}

// CBRAINDockerIndex is the container index that works on both kinds of
// CBRAIN execution server. ToolConfig.create_from_descriptor keeps type
// docker on a Docker server and turns it into Singularity on a server with
// only Apptainer; Apptainer then builds from index + image and defaults the
// index to shub:// (the wrong registry), and a hostname index such as
// docker.io fails ToolConfig's validation there (Singularity indexes must
// end in "://"), which aborts the boot. On Docker, "docker://" passes the
// validation; `docker pull docker://…` is refused as a reference, but the
// task script goes on and `docker run` uses the local image or pulls it.
const CBRAINDockerIndex = "docker://"

// The worst case the descriptor accepts, measured (README, CBRAIN): a
// 4 GiB image (the --max-pixel-bytes default), native and Deflated, and a
// 1,000-slice series, with and without --qc and --percentiles, one worker.
const (
	// WorstCaseSeconds is the longest wall time measured: the 4 GiB
	// Deflated image with --qc and --percentiles, 546 s on a shared 2-core
	// machine under load (100 s of it CPU time).
	WorstCaseSeconds = 546
	// WorstCaseRAMGiB is the largest peak RSS measured, in GiB (CBRAIN's
	// "GB": it multiplies by 1024): that run, whose data set is inflated
	// in memory, peaked at 4,246,160 KiB.
	WorstCaseRAMGiB = 4.05
)

// CBRAIN's schema copy (BrainPortal/lib/boutiques.schema.json) lacks
// these keys of the official schema.
var (
	cbrainTopKeys = []string{"author", "command-line", "container-image", "custom", "description",
		"descriptor-url", "doi", "environment-variables", "error-codes", "groups", "inputs",
		"invocation-schema", "name", "online-platform-urls", "output-files", "schema-version", "shell",
		"suggested-resources", "tags", "tests", "tool-doi", "tool-version", "url"}
	cbrainInputKeys = []string{"command-line-flag", "command-line-flag-separator", "default-value",
		"description", "disables-inputs", "exclusive-maximum", "exclusive-minimum", "id", "integer", "list",
		"list-separator", "max-list-entries", "maximum", "min-list-entries", "minimum", "name", "optional",
		"requires-inputs", "type", "uses-absolute-path", "value-choices", "value-disables", "value-key",
		"value-requires"}
	cbrainOutputKeys = []string{"command-line-flag", "command-line-flag-separator", "description",
		"file-template", "id", "list", "name", "optional", "path-template",
		"path-template-stripped-extensions", "uses-absolute-path", "value-key"}
	cbrainGroupKeys     = []string{"all-or-none", "description", "id", "members", "mutually-exclusive", "name", "one-is-required"}
	cbrainContainerKeys = []string{"container-hash", "container-opts", "entrypoint", "image", "index", "type", "working-directory"}
	// The integrator modules of CBRAIN's core (BrainPortal/lib/boutiques_*.rb).
	cbrainModules = []string{"BoutiquesAllowedExitCodes", "BoutiquesCollectionBasenamesListMaker",
		"BoutiquesDirMaker", "BoutiquesExt3Capturer", "BoutiquesFileNameMatcher", "BoutiquesFileNameVerifier",
		"BoutiquesFileTypeVerifier", "BoutiquesForcedOutputBrowsePath", "BoutiquesInputCacheCleaner",
		"BoutiquesInputCopier", "BoutiquesInputRegexChecker", "BoutiquesInputSubdirMaker",
		"BoutiquesInputValueFixer", "BoutiquesOutputCacheCleaner", "BoutiquesOutputFileTypeSetter",
		"BoutiquesOutputFilenameRenamer", "BoutiquesOutputTagger", "BoutiquesPostProcessingCleaner",
		"BoutiquesResourceManager", "BoutiquesSaveStdOutStdErr", "BoutiquesTaskLogsCopier", "BoutiquesZenodoPusher"}
	// cbrainStringPattern is the form's default check of a String value
	// (BoutiquesPortalTask#sanitize_param): letters, digits, _ , . / : - +.
	cbrainStringPattern = `[\w,./:+-]+`
)

// CBRAINStringProblem says why CBRAIN's form refuses a String value, or
// returns "". pattern is the input's cbrain:override-input-string-ruby-regex
// ("" for the default).
func CBRAINStringProblem(value, pattern string) string {
	if pattern == "" {
		pattern = cbrainStringPattern
	}
	re, err := regexp.Compile(`\A(?:` + strings.TrimSuffix(strings.TrimPrefix(pattern, `\A`), `\z`) + `)\z`)
	switch {
	case err != nil:
		return "pattern " + pattern + ": " + err.Error()
	case strings.TrimSpace(value) == "":
		return "blank"
	case strings.ContainsAny(value, "\r\n"):
		return "has a newline"
	case strings.HasPrefix(value, ".") || strings.HasPrefix(value, "/"):
		return "starts with . or /"
	case strings.Contains(value, "/../"):
		return "moves up directories"
	case !re.MatchString(value):
		return "has characters outside " + pattern
	}
	return ""
}

// CheckCBRAIN applies CBRAINRules to a descriptor.
func CheckCBRAIN(data []byte) ([]Problem, error) {
	var d map[string]any
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&d); err != nil {
		return nil, err
	}
	var p []Problem
	add := func(rule, format string, args ...any) {
		p = append(p, Problem{rule, fmt.Sprintf(format, args...)})
	}
	keys := func(where string, o map[string]any, allowed []string) {
		for k := range o {
			if !slices.Contains(allowed, k) {
				add("cbrain-schema-keys", "%s: CBRAIN does not know the key %q", where, k)
			}
		}
	}
	keys("top level", d, cbrainTopKeys)
	inputs, outputs := objects(d["inputs"]), objects(d["output-files"])
	for _, in := range inputs {
		keys("input "+str(in["id"]), in, cbrainInputKeys)
	}
	for _, o := range outputs {
		keys("output "+str(o["id"]), o, cbrainOutputKeys)
	}
	for _, g := range objects(d["groups"]) {
		keys("group "+str(g["id"]), g, cbrainGroupKeys)
	}
	if c, ok := d["container-image"].(map[string]any); ok {
		keys("container-image", c, cbrainContainerKeys)
		if c["type"] == "docker" && c["index"] != CBRAINDockerIndex {
			add("cbrain-container-index", "container-image has index %v: want %q, which Docker and Apptainer servers both use", c["index"], CBRAINDockerIndex)
		}
	}
	for _, o := range outputs {
		if _, ok := o["path-template"].(string); !ok {
			add("cbrain-path-template", "output %s has no path-template", o["id"])
		}
	}
	custom, _ := d["custom"].(map[string]any)
	modules, _ := custom["cbrain:integrator_modules"].(map[string]any)
	for m := range modules {
		if !slices.Contains(cbrainModules, m) {
			add("cbrain-integrator-modules", "module %s is not one of CBRAIN's", m)
		}
	}
	var required []string
	for _, in := range inputs {
		if in["type"] == "File" && !truthy(in["optional"]) {
			required = append(required, str(in["id"]))
			if truthy(in["list"]) {
				add("cbrain-one-required-file", "required File input %s is a list", in["id"])
			}
		}
	}
	if len(required) != 1 {
		add("cbrain-one-required-file", "required File inputs %v, want one", required)
	}

	overrides, _ := custom["cbrain:override-input-string-ruby-regex"].(map[string]any)
	stringInput := map[string]map[string]any{}
	for _, in := range inputs {
		if in["type"] == "String" {
			stringInput[str(in["id"])] = in
		}
	}
	checkString := func(where, id string, v any) {
		in := stringInput[id]
		if in == nil || v == nil {
			return
		}
		if _, choices := in["value-choices"]; choices {
			return // the form checks choices instead
		}
		if why := CBRAINStringProblem(str(v), str(overrides[id])); why != "" {
			add("cbrain-string-values", "%s: %s = %q: CBRAIN's form refuses it: %s", where, id, v, why)
		}
	}
	for id, in := range stringInput {
		checkString("default-value", id, in["default-value"])
	}
	for _, t := range objects(d["tests"]) {
		inv, _ := t["invocation"].(map[string]any)
		for id, v := range inv {
			checkString("test "+str(t["name"]), id, v)
		}
	}

	ignored := strs(custom["cbrain:ignore_outputs"])
	var saved []map[string]any
	for _, o := range outputs {
		if !slices.Contains(ignored, str(o["id"])) {
			saved = append(saved, o)
		}
	}
	for _, a := range saved {
		ta := str(a["path-template"])
		for _, b := range saved {
			if tb := str(b["path-template"]); a["id"] != b["id"] && strings.HasPrefix(tb, ta+"/") {
				add("cbrain-saved-once", "output %s (%s) lies inside output %s (%s): CBRAIN saves it twice; list one in cbrain:ignore_outputs", b["id"], tb, a["id"], ta)
			}
		}
		for id, in := range stringInput {
			if ta == str(in["value-key"]) && (overrides[id] == nil || CBRAINStringProblem("a/b", str(overrides[id])) == "") {
				add("cbrain-output-dir-name", "output %s is the whole value of %s, which may hold '/' (a/.. is the work directory): restrict it with cbrain:override-input-string-ruby-regex", a["id"], id)
			}
		}
	}

	res, _ := d["suggested-resources"].(map[string]any)
	wall, _ := res["walltime-estimate"].(float64)
	ram, _ := res["ram"].(float64)
	cores, _ := res["cpu-cores"].(float64)
	if wall < WorstCaseSeconds {
		add("cbrain-resources", "walltime-estimate %v s is below the measured worst case, %d s: CBRAIN makes it the batch time limit", wall, WorstCaseSeconds)
	}
	if ram < WorstCaseRAMGiB {
		add("cbrain-resources", "ram %v GB is below the measured worst case, %v GB: CBRAIN makes it the batch memory limit", ram, WorstCaseRAMGiB)
	}
	for _, in := range inputs {
		if in["id"] == "workers" {
			if dv, _ := in["default-value"].(float64); dv != cores {
				add("cbrain-resources", "cpu-cores %v differs from the workers default %v: the cores reserved are not the cores used", cores, in["default-value"])
			}
		}
	}
	return p, nil
}

// CBRAINSaved returns the paths (glob patterns, relative to the task's work
// directory) that CBRAIN's BoutiquesClusterTask#save_results looks for
// after a run with this invocation: each output not in
// cbrain:ignore_outputs, its path-template with every input's value-key
// replaced by the value (or the default), each of the output's stripped
// extensions removed from the end of the value in the listed order, one
// after another (unlike bosh, which removes them anywhere).
func (b *Boutiques) CBRAINSaved(inv map[string]any) map[string]string {
	ignored := strs(b.Custom["cbrain:ignore_outputs"])
	saved := map[string]string{}
	for _, o := range b.OutputFiles {
		if slices.Contains(ignored, o.ID) {
			continue
		}
		path := o.PathTemplate
		for _, in := range b.Inputs {
			v, ok := inv[in.ID]
			if !ok {
				v = in.Default
			}
			if in.ValueKey == "" || v == nil {
				continue
			}
			if _, list := v.([]any); list {
				continue
			}
			s := rubyString(v)
			for _, ext := range o.StrippedExtensions {
				s = strings.TrimSuffix(s, ext)
			}
			path = strings.ReplaceAll(path, in.ValueKey, s)
		}
		saved[o.ID] = path
	}
	return saved
}

// rubyString is Ruby's to_s of a value parsed from JSON by Ruby: Python's
// str but for booleans.
func rubyString(v any) string {
	if b, ok := v.(bool); ok {
		return strconv.FormatBool(b)
	}
	return text(v)
}
