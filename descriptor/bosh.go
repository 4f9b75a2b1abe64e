package descriptor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Problem is one rule a descriptor breaks. Rule names the rule (one of
// BoshRules or CBRAINRules); Message says where and how.
type Problem struct {
	Rule    string
	Message string
}

func (p Problem) String() string { return p.Rule + ": " + p.Message }

// BoshRules are the checks `bosh validate` (boutiques/validator.py,
// 0.5.33) applies after the JSON schema, in the order it applies them.
// The schema passing says nothing about these: a descriptor that breaks
// one makes `bosh validate` exit 99, and with it `bosh exec launch` and
// `bosh exec simulate`, which CBRAIN runs for every task.
var BoshRules = []string{
	"value-key-used",             // every value-key is in the command line, a file template or an environment value
	"value-key-nested",           // no value-key contains another
	"id-unique",                  // ids are unique across inputs, outputs and groups
	"shared-value-key-mutex",     // inputs sharing a value-key are exactly a mutually-exclusive group
	"path-template-unique",       // no two outputs have the same path-template
	"conditional-default",        // a required conditional output has exactly one "default"
	"conditional-ids",            // words of a condition name inputs or outputs
	"conditional-types",          // a condition compares values of one type
	"flag-has-flag",              // a Flag input has a command-line-flag
	"flag-optional",              // a Flag input is optional
	"number-min-max",             // minimum is not above maximum
	"choices-nonempty",           // value-choices has a choice
	"choices-default",            // the default is one of the value-choices
	"list-min-max",               // min-list-entries is not above max-list-entries
	"list-min-negative",          // min-list-entries is not negative
	"list-max-positive",          // max-list-entries is positive
	"requires-exist",             // requires-inputs names inputs or groups
	"disables-exist",             // disables-inputs names inputs
	"requires-and-disables",      // no input both requires and disables another
	"disables-required",          // no input disables a required one
	"required-no-dependencies",   // a required input requires and disables nothing
	"value-options-need-choices", // value-requires and value-disables need value-choices
	"value-requires-and-disables",
	"value-options-keys",     // value-requires/value-disables keys are the choices
	"value-options-exist",    // they name inputs
	"value-options-required", // they name no required input
	"group-member-exists",
	"group-member-twice",
	"mutex-required-member",       // a mutually-exclusive group has no required member
	"mutex-members-require",       // nor members requiring one another
	"mutex-all-or-none-pair",      // no pair is in both a mutually-exclusive and an all-or-none group
	"one-is-required-member",      // a one-is-required group has no required member
	"one-is-required-all-or-none", // nor is a subset of an all-or-none group
	"all-or-none-combined",        // an all-or-none group is not also one-is-required or mutually-exclusive
	"all-or-none-required-member", // an all-or-none group has no required member
	"test-output-id",              // a test's output ids are outputs
	"test-output-twice",           // named once per test
	"test-name-unique",            // test names are unique
	"container-index",             // an index in the image agrees with "index"
}

// pythonKeywords is keyword.kwlist of Python 3.11, which bosh uses to tell
// operators from input ids in conditional path templates.
var pythonKeywords = []string{"False", "None", "True", "and", "as", "assert", "async", "await", "break",
	"class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
	"import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield"}

// CheckBosh applies BoshRules to a descriptor that already passes the
// schema (bosh stops at the schema; so should the caller). It is a port of
// validator.py's logic, quirks included where they decide pass or fail
// (max-list-entries 0 counts as no maximum; a Number's value-choices are
// not checked), so that it says yes exactly when bosh does.
func CheckBosh(data []byte) ([]Problem, error) {
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	var p []Problem
	add := func(rule, format string, args ...any) {
		p = append(p, Problem{rule, fmt.Sprintf(format, args...)})
	}
	inputs, outputs, groups := objects(d["inputs"]), objects(d["output-files"]), objects(d["groups"])
	ids := func(objs []map[string]any) []string {
		var out []string
		for _, o := range objs {
			if s, ok := o["id"].(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	inIDs, outIDs, grpIDs := ids(inputs), ids(outputs), ids(groups)
	byID := func(id string) map[string]any {
		for _, in := range inputs {
			if in["id"] == id {
				return in
			}
		}
		return nil
	}

	// Value-keys.
	var keys []string
	for _, objs := range [][]map[string]any{inputs, outputs} {
		for _, o := range objs {
			if k, ok := o["value-key"].(string); ok {
				keys = append(keys, k)
			}
		}
	}
	var templates []string
	for _, o := range outputs {
		for _, line := range strs(o["file-template"]) {
			templates = append(templates, line)
		}
	}
	for _, o := range outputs {
		if t, ok := o["path-template"].(string); ok {
			templates = append(templates, t)
		}
	}
	haystack := str(d["command-line"]) + strings.Join(templates, ".")
	for _, env := range objects(d["environment-variables"]) {
		haystack += "||" + str(env["value"])
	}
	for _, k := range keys {
		if !strings.Contains(haystack, k) {
			add("value-key-used", "%q is not in the command line, a file template or an environment variable", k)
		}
	}
	for _, k := range keys {
		for _, other := range keys {
			if other != k && strings.Contains(k, other) {
				add("value-key-nested", "%q contains %q", k, other)
			}
		}
	}

	// Ids.
	all := append(append(append([]string(nil), inIDs...), outIDs...), grpIDs...)
	for i, a := range all {
		for _, b := range all[i+1:] {
			if a == b {
				add("id-unique", "%q is not unique across inputs, outputs and groups", a)
			}
		}
	}

	// Inputs sharing a value-key.
	for i, k := range keys {
		for _, other := range keys[i+1:] {
			if other != k {
				continue
			}
			var members []string
			for _, in := range inputs {
				if in["value-key"] == k {
					members = append(members, str(in["id"]))
				}
			}
			if _, ok := d["groups"]; !ok {
				// bosh fails here with a TypeError: no group can make it right.
				add("shared-value-key-mutex", "%q is shared by %v and there is no group", k, members)
				continue
			}
			for _, g := range groups {
				if sameSet(strs(g["members"]), members) && !truthy(g["mutually-exclusive"]) {
					add("shared-value-key-mutex", "%q is shared by %v, whose group %s is not mutually-exclusive", k, members, g["id"])
				}
			}
		}
	}

	// Output path templates.
	for _, a := range outputs {
		for _, b := range outputs {
			ta, oka := a["path-template"].(string)
			tb, okb := b["path-template"].(string)
			if oka && okb && ta == tb && a["id"] != b["id"] {
				add("path-template-unique", "%s and %s have the same path-template %q", a["id"], b["id"], ta)
			}
		}
	}
	var condKeys []struct{ output, key string }
	for _, o := range outputs {
		cpt, ok := o["conditional-path-template"].([]any)
		if !ok || truthy(o["optional"]) {
			continue
		}
		defaults := 0
		for _, c := range cpt {
			m, _ := c.(map[string]any)
			// bosh reads each object's first key; objects hold one, and
			// sorting keeps the result the same from run to run if not.
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			slices.Sort(ks)
			if len(ks) > 0 {
				condKeys = append(condKeys, struct{ output, key string }{str(o["id"]), ks[0]})
				if ks[0] == "default" {
					defaults++
				}
			}
		}
		if defaults != 1 {
			add("conditional-default", "required output %s has %d \"default\" conditions in its conditional-path-template, want 1", o["id"], defaults)
		}
	}
	outIDSet := ids(outputs)
	for _, ck := range condKeys {
		words := strings.Fields(conditionalFormat(ck.key))
		if len(words) == 1 && words[0] == "default" {
			continue
		}
		for _, w := range words {
			if !slices.Contains(pythonKeywords, w) && isAlnum(w) && !isDigits(w) && !slices.Contains(inIDs, w) && !slices.Contains(outIDSet, w) {
				add("conditional-ids", "output %s: condition %q names %q, which is neither an id nor a keyword", ck.output, ck.key, w)
			}
		}
		for i, w := range words {
			if !slices.Contains(pythonKeywords, w) && isAlnum(w) && !isDigits(w) {
				if in := byID(w); in != nil {
					words[i] = str(in["type"])
				}
			}
		}
		if !validCondition(strings.Join(words, " ")) {
			add("conditional-types", "output %s: condition %q compares values of different types or uses a keyword other than and/or", ck.output, ck.key)
		}
	}

	// Inputs.
	for _, in := range inputs {
		id := str(in["id"])
		optional := truthy(in["optional"])
		_, hasChoices := in["value-choices"]
		switch {
		case in["type"] == "Flag":
			if _, ok := in["command-line-flag"]; !ok {
				add("flag-has-flag", "Flag input %s has no command-line-flag", id)
			}
			if !optional {
				add("flag-optional", "Flag input %s must be optional", id)
			}
		case in["type"] == "Number":
			lo, hi := math.Inf(-1), math.Inf(1)
			if v, ok := in["minimum"].(float64); ok {
				lo = v
			}
			if v, ok := in["maximum"].(float64); ok {
				hi = v
			}
			if lo > hi {
				add("number-min-max", "input %s has minimum %v above maximum %v", id, lo, hi)
			}
		case hasChoices:
			choices, _ := in["value-choices"].([]any)
			if len(choices) == 0 {
				add("choices-nonempty", "input %s has no value choice", id)
			}
			if dv, ok := in["default-value"]; ok {
				list, isList := dv.([]any)
				if !isList {
					list = []any{dv}
				}
				for _, v := range list {
					if !slices.ContainsFunc(choices, func(c any) bool { return pyEqual(c, v) }) {
						add("choices-default", "input %s has default %v outside its value-choices", id, v)
					}
				}
			}
		}
		if _, ok := in["list"]; ok {
			lo, hi := 0.0, math.Inf(1)
			// Python's `x or default`: 0 and null mean the default.
			if v, ok := in["min-list-entries"].(float64); ok && v != 0 {
				lo = v
			}
			if v, ok := in["max-list-entries"].(float64); ok && v != 0 {
				hi = v
			}
			if lo > hi {
				add("list-min-max", "input %s has min-list-entries %v above max-list-entries %v", id, lo, hi)
			}
			if lo < 0 {
				add("list-min-negative", "input %s has negative min-list-entries %v", id, lo)
			}
			if hi <= 0 {
				add("list-max-positive", "input %s has max-list-entries %v, not positive", id, hi)
			}
		}
		requires, disables := strs(in["requires-inputs"]), strs(in["disables-inputs"])
		for _, r := range requires {
			if !slices.Contains(inIDs, r) && !slices.Contains(grpIDs, r) {
				add("requires-exist", "input %s requires %q, which is not an input or group", id, r)
			}
		}
		for _, x := range disables {
			if !slices.Contains(inIDs, x) {
				add("disables-exist", "input %s disables %q, which is not an input", id, x)
			}
		}
		for _, r := range requires {
			if slices.Contains(disables, r) {
				add("requires-and-disables", "input %s requires and disables %q", id, r)
			}
		}
		for _, x := range disables {
			if other := byID(x); other != nil && !truthy(other["optional"]) {
				add("disables-required", "input %s disables the required input %s", id, x)
			}
		}
		_, hasReq := in["requires-inputs"]
		_, hasDis := in["disables-inputs"]
		if (hasReq || hasDis) && !optional {
			add("required-no-dependencies", "required input %s cannot require or disable inputs", id)
		}
		_, hasVR := in["value-requires"]
		_, hasVD := in["value-disables"]
		if (hasVR || hasVD) && !hasChoices {
			add("value-options-need-choices", "input %s has value-requires or value-disables without value-choices", id)
		}
		if !hasChoices {
			continue
		}
		choices := strs(in["value-choices"])
		vr, _ := in["value-requires"].(map[string]any)
		vd, _ := in["value-disables"].(map[string]any)
		if hasVR && hasVD {
			for _, c := range choices {
				for _, x := range strs(vd[c]) {
					if slices.Contains(strs(vr[c]), x) {
						add("value-requires-and-disables", "input %s: choice %q requires and disables %q", id, c, x)
					}
				}
			}
		}
		for _, opt := range []struct {
			name string
			m    map[string]any
			has  bool
		}{{"value-requires", vr, hasVR}, {"value-disables", vd, hasVD}} {
			if !opt.has {
				continue
			}
			var ks []string
			for k := range opt.m {
				ks = append(ks, k)
			}
			if !sameSet(ks, choices) {
				add("value-options-keys", "input %s: the keys of %s are not its value-choices", id, opt.name)
			}
			for _, k := range ks {
				for _, x := range strs(opt.m[k]) {
					if !slices.Contains(inIDs, x) {
						add("value-options-exist", "input %s: %s names %q, which is not an input", id, opt.name, x)
					}
					if other := byID(x); other == nil || !truthy(other["optional"]) {
						add("value-options-required", "input %s: %s names the required input %q", id, opt.name, x)
					}
				}
			}
		}
	}

	// Groups.
	for i, g := range groups {
		gid := str(g["id"])
		members := strs(g["members"])
		seen := map[string]int{}
		for _, m := range members {
			if !slices.Contains(inIDs, m) {
				add("group-member-exists", "group %s: member %q is not an input", gid, m)
			}
			if seen[m]++; seen[m] == 2 {
				add("group-member-twice", "group %s: member %q appears twice", gid, m)
			}
		}
		required := func(m string) bool { in := byID(m); return in != nil && !truthy(in["optional"]) }
		if truthy(g["mutually-exclusive"]) {
			for _, m := range members {
				if required(m) {
					add("mutex-required-member", "mutually-exclusive group %s has the required member %s", gid, m)
				}
				if in := byID(m); in != nil {
					for _, r := range strs(in["requires-inputs"]) {
						if slices.Contains(members, r) {
							add("mutex-members-require", "mutually-exclusive group %s: %s requires %s", gid, m, r)
						}
					}
				}
			}
			for j, g2 := range groups {
				if j == i || !truthy(g2["all-or-none"]) {
					continue
				}
				m2 := strs(g2["members"])
				for _, a := range members {
					for _, b := range members {
						if a != b && slices.Contains(m2, a) && slices.Contains(m2, b) {
							add("mutex-all-or-none-pair", "mutually-exclusive group %s and all-or-none group %s both hold %s and %s", gid, g2["id"], a, b)
						}
					}
				}
			}
		}
		if truthy(g["one-is-required"]) {
			for _, m := range members {
				if required(m) {
					add("one-is-required-member", "one-is-required group %s has the required member %s", gid, m)
				}
			}
			for j, g2 := range groups {
				if j != i && truthy(g2["all-or-none"]) && subset(members, strs(g2["members"])) {
					add("one-is-required-all-or-none", "one-is-required group %s is a subset of the all-or-none group %s", gid, g2["id"])
				}
			}
		}
		if truthy(g["all-or-none"]) {
			if truthy(g["one-is-required"]) || truthy(g["mutually-exclusive"]) {
				add("all-or-none-combined", "all-or-none group %s is also one-is-required or mutually-exclusive", gid)
			}
			for _, m := range members {
				if required(m) {
					add("all-or-none-required-member", "all-or-none group %s has the required member %s", gid, m)
				}
			}
		}
	}

	// Tests.
	names := map[string]int{}
	for _, t := range objects(d["tests"]) {
		name := str(t["name"])
		if names[name]++; names[name] == 2 {
			add("test-name-unique", "test name %q is not unique", name)
		}
		a, _ := t["assertions"].(map[string]any)
		count := map[string]int{}
		for _, o := range objects(a["output-files"]) {
			oid := str(o["id"])
			if !slices.Contains(outIDs, oid) {
				add("test-output-id", "test %q names output %q, which does not exist", name, oid)
			}
			if count[oid]++; count[oid] == 2 {
				add("test-output-twice", "test %q names output %q more than once", name, oid)
			}
		}
	}

	// Container index.
	if c, ok := d["container-image"].(map[string]any); ok {
		index, hasIndex := c["index"].(string)
		if m := imageIndex.FindString(str(c["image"])); hasIndex && m != "" && m != index {
			add("container-index", "image %q starts with index %q, but \"index\" is %q", c["image"], m, index)
		}
	}
	return p, nil
}

var (
	imageIndex = regexp.MustCompile(`^[a-zA-Z0-9]+://`)
	numberWord = regexp.MustCompile(`^[0-9]*\.?[0-9]+$`)
	flagWord   = regexp.MustCompile(`^(True|False|false|true)$`)
)

// conditionalFormat spaces out operators as boutiques.util.utils'
// conditionalExpFormat does (including its habit of dropping the character
// after a one-character operator).
func conditionalFormat(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("=!<>", c) >= 0:
			next := byte(' ')
			if i+1 < len(s) && s[i+1] == '=' {
				next = '='
			}
			b.WriteString(" " + string(c) + string(next))
			i++
		case c == '(' || c == ')':
			b.WriteString(" " + string(c) + " ")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// validCondition is validator.py's isValidConditionalExp, on an expression
// whose ids were replaced by their types.
func validCondition(exp string) bool {
	types := []string{"String", "File", "Flag", "Number"}
	kind := func(s string) string {
		s = strings.TrimSpace(s)
		switch {
		case slices.Contains(types, s):
			if s == "File" {
				return "String"
			}
			return s
		case numberWord.MatchString(s):
			return "Number"
		case flagWord.MatchString(s):
			return "Flag"
		}
		return "String"
	}
	depth, start := 0, 0
	var rebuilt strings.Builder
	for i, c := range exp {
		switch {
		case c == '(':
			depth++
			start = i + 1
		case c == ')':
			depth--
			if depth == 0 {
				if !validCondition(exp[start:i]) {
					return false
				}
				rebuilt.WriteString("True")
			}
		case depth == 0:
			rebuilt.WriteRune(c)
		}
	}
	r := strings.TrimSpace(rebuilt.String())
	if strings.ContainsAny(r, "()") {
		return true
	}
	words := strings.Fields(r)
	at := func(i int) string {
		// Python's negative index wraps; past the end it raises, which
		// fails bosh as surely as an invalid expression.
		if i < 0 {
			i += len(words)
		}
		if i < 0 || i >= len(words) {
			return "\x00"
		}
		return words[i]
	}
	for i, w := range words {
		if slices.Contains([]string{"==", "!=", "<", ">", "<=", ">="}, w) {
			if at(i+1) == "\x00" || kind(at(i-1)) != kind(at(i+1)) {
				return false
			}
		}
		low := strings.ToLower(w)
		if slices.Contains(pythonKeywords, w) && !slices.Contains([]string{"and", "or", "false", "true"}, low) {
			return false
		}
		if low == "and" || low == "or" {
			ok := func(s string) bool { return slices.Contains(append(types, "True", "False"), s) }
			if !ok(at(i-1)) || !ok(at(i+1)) {
				return false
			}
		}
	}
	return true
}

func objects(v any) []map[string]any {
	list, _ := v.([]any)
	var out []map[string]any
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func strs(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		out = append(out, str(x))
	}
	return out
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// truthy is Python's truth of a JSON value, as bosh tests "optional" and
// the group kinds.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// pyEqual is Python's == on JSON values of the kinds value-choices hold.
func pyEqual(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case float64:
			return x, true
		case bool:
			if x {
				return 1, true
			}
			return 0, true
		}
		return 0, false
	}
	if x, ok := num(a); ok {
		y, ok := num(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func sameSet(a, b []string) bool { return subset(a, b) && subset(b, a) }

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
