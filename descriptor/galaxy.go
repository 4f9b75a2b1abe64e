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
