package descriptor

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
)

// Galaxy is the part of a Galaxy tool wrapper this package uses.
type Galaxy struct {
	ID           string `xml:"id,attr"`
	Version      string `xml:"version,attr"`
	Requirements struct {
		Containers []struct {
			Type  string `xml:"type,attr"`
			Image string `xml:",chardata"`
		} `xml:"container"`
	} `xml:"requirements"`
	Command struct {
		DetectErrors string `xml:"detect_errors,attr"`
		Text         string `xml:",chardata"`
	} `xml:"command"`
	Inputs []GalaxyParam `xml:"inputs>param"`
	Output []struct {
		Name        string `xml:"name,attr"`
		Format      string `xml:"format,attr"`
		FromWorkDir string `xml:"from_work_dir,attr"` // Galaxy collects the file from the job directory
	} `xml:"outputs>data"`
	Tests []GalaxyTest `xml:"tests>test"`
	Help  string       `xml:"help"`
	DOIs  []string     `xml:"citations>citation"`
}

// GalaxyParam is one tool parameter.
type GalaxyParam struct {
	Name   string `xml:"name,attr"`
	Type   string `xml:"type,attr"`
	Format string `xml:"format,attr"`
	Value  string `xml:"value,attr"`
	// Boolean parameters: the text that stands for them in the command.
	TrueValue  string `xml:"truevalue,attr"`
	FalseValue string `xml:"falsevalue,attr"`
	Checked    string `xml:"checked,attr"`
}

// GalaxyTest is one tool test.
type GalaxyTest struct {
	ExpectExitCode string `xml:"expect_exit_code,attr"`
	ExpectFailure  string `xml:"expect_failure,attr"`
	Params         []struct {
		Name     string `xml:"name,attr"`
		Value    string `xml:"value,attr"`
		Elements []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"collection>element"`
	} `xml:"param"`
	Collections []struct {
		Name  string `xml:"name,attr"`
		Count string `xml:"count,attr"`
	} `xml:"output_collection"`
	Outputs []struct {
		Name     string `xml:"name,attr"`
		Checksum string `xml:"checksum,attr"`
	} `xml:"output"`
}

// LoadGalaxy reads a Galaxy tool wrapper.
func LoadGalaxy(file string) (*Galaxy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var g Galaxy
	if err := xml.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &g, nil
}

// dockerImage returns the image of the docker container requirement.
func (g *Galaxy) dockerImage() string {
	for _, c := range g.Requirements.Containers {
		if c.Type == "docker" {
			return c.Image
		}
	}
	return ""
}

// Element is one dataset of a collection parameter.
type Element struct{ Path, Identifier string }

// Render fills a Galaxy <command> the way Cheetah does for what the
// project's wrappers use: $name and ${name} placeholders, and
// "#for $x in $collection" ... "#end for" over a list collection, where
// $x is an element's path and ${x.element_identifier} its identifier. Any
// other directive is refused: a renderer that ignored it would test
// something else.
func (g *Galaxy) Render(values map[string]string, collections map[string][]Element) (string, error) {
	var out strings.Builder
	lines := strings.SplitAfter(g.Command.Text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, "#") {
			s, err := substitute(line, values)
			if err != nil {
				return "", err
			}
			out.WriteString(s)
			continue
		}
		var loopVar, coll string
		if _, err := fmt.Sscanf(trimmed, "#for $%s in $%s", &loopVar, &coll); err != nil {
			return "", fmt.Errorf("cheetah directive %q is not supported", trimmed)
		}
		elems, ok := collections[coll]
		if !ok {
			return "", fmt.Errorf("no collection $%s", coll)
		}
		end := i + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "#end for" {
			end++
		}
		if end == len(lines) {
			return "", fmt.Errorf("#for without #end for")
		}
		for _, e := range elems {
			scope := map[string]string{}
			for k, v := range values {
				scope[k] = v
			}
			scope[loopVar] = e.Path
			scope[loopVar+".element_identifier"] = e.Identifier
			for _, body := range lines[i+1 : end] {
				s, err := substitute(body, scope)
				if err != nil {
					return "", err
				}
				out.WriteString(s)
			}
		}
		i = end
	}
	return out.String(), nil
}

// substitute replaces $name, ${name} and ${name.attr} placeholders.
func substitute(text string, values map[string]string) (string, error) {
	var out []byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '$' {
			out = append(out, c)
			continue
		}
		j := i + 1
		braced := j < len(text) && text[j] == '{'
		if braced {
			j++
		}
		k := j
		for k < len(text) && (text[k] == '_' || text[k] >= 'a' && text[k] <= 'z' || text[k] >= 'A' && text[k] <= 'Z' ||
			text[k] >= '0' && text[k] <= '9' || (braced && text[k] == '.')) {
			k++
		}
		name := text[j:k]
		v, ok := values[name]
		if !ok {
			return "", fmt.Errorf("no value for $%s", name)
		}
		if braced {
			if k >= len(text) || text[k] != '}' {
				return "", fmt.Errorf("unclosed ${%s", name)
			}
			k++
		}
		out = append(out, v...)
		i = k - 1
	}
	return string(out), nil
}
