package descriptor

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// CWL is the part of a CWL CommandLineTool this package uses.
type CWL struct {
	CWLVersion  string         `yaml:"cwlVersion"`
	Class       string         `yaml:"class"`
	BaseCommand any            `yaml:"baseCommand"`
	Hints       map[string]any `yaml:"hints"`
	Arguments   []struct {
		Prefix    string `yaml:"prefix"`
		ValueFrom string `yaml:"valueFrom"`
	} `yaml:"arguments"`
	Inputs map[string]struct {
		Type         any `yaml:"type"`
		InputBinding *struct {
			Prefix   string `yaml:"prefix"`
			Position int    `yaml:"position"`
		} `yaml:"inputBinding"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Type   any    `yaml:"type"`
		Format string `yaml:"format"`
	} `yaml:"outputs"`
	Requirements       map[string]any `yaml:"requirements"`
	SuccessCodes       []int          `yaml:"successCodes"`
	PermanentFailCodes []int          `yaml:"permanentFailCodes"`
	TemporaryFailCodes []int          `yaml:"temporaryFailCodes"`
	Version            string         `yaml:"s:version"`
	License            string         `yaml:"s:license"`
	CodeRepository     string         `yaml:"s:codeRepository"`
	Author             any            `yaml:"s:author"`
}

// LoadCWL reads a CWL CommandLineTool written in YAML (the map forms of
// inputs, outputs and hints, as this project writes them).
func LoadCWL(file string) (*CWL, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var c CWL
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &c, nil
}

// dockerPull returns the DockerRequirement image under hints.
func (c *CWL) dockerPull() string {
	d, _ := c.Hints["DockerRequirement"].(map[string]any)
	s, _ := d["dockerPull"].(string)
	return s
}

// softwareVersions returns the versions the SoftwareRequirement lists for a
// package.
func (c *CWL) softwareVersions(pkg string) []string {
	sr, _ := c.Hints["SoftwareRequirement"].(map[string]any)
	pkgs, _ := sr["packages"].(map[string]any)
	p, _ := pkgs[pkg].(map[string]any)
	var out []string
	vs, _ := p["version"].([]any)
	for _, v := range vs {
		out = append(out, fmt.Sprint(v))
	}
	return out
}
