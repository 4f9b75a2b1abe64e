package descriptor

import (
	"encoding/xml"
	"fmt"
	"os"
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
		Name   string `xml:"name,attr"`
		Format string `xml:"format,attr"`
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
}

// GalaxyTest is one tool test.
type GalaxyTest struct {
	ExpectExitCode string `xml:"expect_exit_code,attr"`
	ExpectFailure  string `xml:"expect_failure,attr"`
	Params         []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"param"`
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

// Render fills a Galaxy <command> the way Cheetah does for plain $name and
// ${name} placeholders. Directives (#if, #for, …) are refused: the wrapper
// has none, and a renderer that ignored them would test something else.
func (g *Galaxy) Render(values map[string]string) (string, error) {
	text := g.Command.Text
	var out []byte
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '#' && (i == 0 || text[i-1] == '\n') {
			return "", fmt.Errorf("cheetah directive at offset %d is not supported", i)
		}
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
		for k < len(text) && (text[k] == '_' || text[k] >= 'a' && text[k] <= 'z' || text[k] >= 'A' && text[k] <= 'Z' || text[k] >= '0' && text[k] <= '9') {
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
