// Package descriptor loads the tool's workflow descriptors (Boutiques, CWL
// and Galaxy), validates the Boutiques one against the official schema and
// the rules bosh and CBRAIN apply beyond it, forms command lines (and
// CBRAIN's output paths) from them the way the engines do, and checks that
// they agree with the CLI. Problems are returned as data; nothing is printed.
package descriptor

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"
)

// Boutiques is the part of a Boutiques descriptor this package uses.
type Boutiques struct {
	Name           string `json:"name"`
	ToolVersion    string `json:"tool-version"`
	SchemaVersion  string `json:"schema-version"`
	CommandLine    string `json:"command-line"`
	ContainerImage struct {
		Type  string `json:"type"`
		Image string `json:"image"`
	} `json:"container-image"`
	Inputs      []BoutiquesInput  `json:"inputs"`
	OutputFiles []BoutiquesOutput `json:"output-files"`
	ErrorCodes  []struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"error-codes"`
	Tests []struct {
		Name       string         `json:"name"`
		Invocation map[string]any `json:"invocation"`
		Assertions struct {
			ExitCode    int `json:"exit-code"`
			OutputFiles []struct {
				ID string `json:"id"`
			} `json:"output-files"`
		} `json:"assertions"`
	} `json:"tests"`
	Custom map[string]any `json:"custom"`
}

// BoutiquesInput is one input of a Boutiques descriptor.
type BoutiquesInput struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Type         string  `json:"type"`
	Integer      bool    `json:"integer"`
	ValueKey     string  `json:"value-key"`
	Flag         string  `json:"command-line-flag"`
	RawSeparator *string `json:"command-line-flag-separator"`
	Optional     bool    `json:"optional"`
	Default      any     `json:"default-value"`
	List         bool    `json:"list"`
}

// BoutiquesOutput is one output file of a Boutiques descriptor.
type BoutiquesOutput struct {
	ID                 string   `json:"id"`
	PathTemplate       string   `json:"path-template"`
	StrippedExtensions []string `json:"path-template-stripped-extensions"`
	Optional           bool     `json:"optional"`
}

// LoadBoutiques reads a Boutiques descriptor.
func LoadBoutiques(file string) (*Boutiques, []byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var b Boutiques
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return &b, data, nil
}

// ValidateBoutiques validates a descriptor as `bosh validate` does: against
// the official Boutiques JSON schema, then, when that passes, against
// BoshRules. It returns the violations.
func ValidateBoutiques(descriptor, schema []byte) ([]string, error) {
	problems, err := ValidateBoutiquesSchema(descriptor, schema)
	if err != nil || len(problems) > 0 {
		return problems, err
	}
	rules, err := CheckBosh(descriptor)
	for _, r := range rules {
		problems = append(problems, r.String())
	}
	return problems, err
}

// ValidateBoutiquesSchema validates a descriptor against the official
// Boutiques JSON schema only, and returns the violations.
func ValidateBoutiquesSchema(descriptor, schema []byte) ([]string, error) {
	var s any
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	// The official schema repeats two draft-04 "id" values, which strict
	// validators refuse. It has no $ref, so dropping the ids changes nothing.
	s = dropIDs(s, false)
	result, err := gojsonschema.Validate(gojsonschema.NewGoLoader(s), gojsonschema.NewBytesLoader(descriptor))
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, e := range result.Errors() {
		problems = append(problems, e.String())
	}
	return problems, nil
}

// dropIDs removes "id" keywords (string values), keeping properties that
// happen to be named id.
func dropIDs(v any, inProperties bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if _, isString := val.(string); k == "id" && isString && !inProperties {
				continue
			}
			out[k] = dropIDs(val, k == "properties" && !inProperties)
		}
		return out
	case []any:
		for i := range x {
			x[i] = dropIDs(x[i], false)
		}
	}
	return v
}

// Invocation forms the command line and output paths of an invocation the
// way bosh does (boutiques/localExec.py: _generateOutputFileNames and
// _replaceKeysInTemplate): defaults fill missing inputs, File and String
// values are shell-quoted, flags and separators prefix values, missing
// optional inputs vanish with the space before them, and output path
// templates strip the listed extensions anywhere in a value and take the
// base name of a File input that is not at the template's start.
func (b *Boutiques) Invocation(inv map[string]any) (command string, outputs map[string]string, err error) {
	values := map[string]any{}
	for _, in := range b.Inputs {
		if v, ok := inv[in.ID]; ok {
			values[in.ID] = v
		} else if in.Default != nil {
			values[in.ID] = in.Default
		} else if !in.Optional {
			return "", nil, fmt.Errorf("invocation lacks required input %s", in.ID)
		}
	}
	for id := range inv {
		if b.input(id) == nil {
			return "", nil, fmt.Errorf("invocation names unknown input %s", id)
		}
	}
	outputs = map[string]string{}
	for _, o := range b.OutputFiles {
		tmpl := o.PathTemplate
		for _, in := range b.Inputs {
			v, ok := values[in.ID]
			if !ok || in.ValueKey == "" {
				continue
			}
			s := text(v)
			if in.Type == "File" || in.Type == "String" {
				for _, ext := range o.StrippedExtensions {
					s = strings.ReplaceAll(s, ext, "")
				}
				if in.Type == "File" && strings.Index(tmpl, in.ValueKey) > 0 {
					s = path.Base(s)
				}
			}
			tmpl = strings.ReplaceAll(tmpl, in.ValueKey, s)
		}
		outputs[o.ID] = tmpl
	}
	cmd := b.CommandLine
	for _, in := range b.Inputs {
		if in.ValueKey == "" {
			continue
		}
		v, ok := values[in.ID]
		if !ok || (in.Type == "Flag" && v == false) {
			if strings.Contains(cmd, " "+in.ValueKey) {
				cmd = strings.ReplaceAll(cmd, " "+in.ValueKey, "")
			} else {
				cmd = strings.ReplaceAll(cmd, in.ValueKey, "")
			}
			continue
		}
		s := text(v)
		if in.Type == "File" || in.Type == "String" {
			s = shellQuote(s)
		}
		switch {
		case in.Type == "Flag":
			s = in.Flag
		case in.Flag != "":
			sep := " "
			if in.RawSeparator != nil {
				sep = *in.RawSeparator
			}
			s = in.Flag + sep + s
		}
		cmd = strings.ReplaceAll(cmd, in.ValueKey, s)
	}
	return cmd, outputs, nil
}

func (b *Boutiques) input(id string) *BoutiquesInput {
	for i := range b.Inputs {
		if b.Inputs[i].ID == id {
			return &b.Inputs[i]
		}
	}
	return nil
}

// text renders a JSON value as bosh's str() does for the types we use.
func text(v any) string {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "True"
		}
		return "False"
	}
	return fmt.Sprint(v)
}

// shellQuote quotes like Python's shlex.quote.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// ErrorCodeSet returns the documented error codes, sorted.
func (b *Boutiques) ErrorCodeSet() []int {
	var codes []int
	for _, e := range b.ErrorCodes {
		codes = append(codes, e.Code)
	}
	sort.Ints(codes)
	return codes
}
