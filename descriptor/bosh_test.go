package descriptor

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// shipped returns the shipped Boutiques descriptor as generic JSON, fresh
// for each mutation.
func shipped(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../boutiques/dicom-remap.json")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// find returns the object with this id in a list of the descriptor.
func find(t *testing.T, d map[string]any, list, id string) map[string]any {
	t.Helper()
	for _, o := range objects(d[list]) {
		if o["id"] == id {
			return o
		}
	}
	t.Fatalf("%s has no %s", list, id)
	return nil
}

func push(d map[string]any, list string, o map[string]any) {
	l, _ := d[list].([]any)
	d[list] = append(l, o)
}

func l(v ...any) []any { return append([]any{}, v...) }

// boshCases breaks the shipped descriptor once per rule of BoshRules, and
// only beyond the schema: each mutation still passes the official schema.
var boshCases = map[string]func(t *testing.T, d map[string]any){
	"value-key-used": func(t *testing.T, d map[string]any) {
		push(d, "inputs", map[string]any{"id": "extra", "name": "Extra", "type": "String", "value-key": "[EXTRA]", "optional": true})
	},
	"value-key-nested": func(t *testing.T, d map[string]any) {
		push(d, "inputs", map[string]any{"id": "extra", "name": "Extra", "type": "String", "value-key": "[MIN]X", "optional": true})
		d["command-line"] = d["command-line"].(string) + " [MIN]X"
	},
	"id-unique": func(t *testing.T, d map[string]any) {
		find(t, d, "output-files", "provenance")["id"] = "min"
	},
	"shared-value-key-mutex": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "source_range_from")["value-key"] = "[SOURCE_RANGE]"
		find(t, d, "groups", "source")["mutually-exclusive"] = false
	},
	"path-template-unique": func(t *testing.T, d map[string]any) {
		find(t, d, "output-files", "provenance")["path-template"] = find(t, d, "output-files", "normalized_image")["path-template"]
	},
	"conditional-default": func(t *testing.T, d map[string]any) {
		push(d, "output-files", map[string]any{"id": "cond", "name": "Cond", "optional": false,
			"conditional-path-template": l(map[string]any{"force": "[OUTPUT_DIR]/a"})})
	},
	"conditional-ids": func(t *testing.T, d map[string]any) {
		push(d, "output-files", map[string]any{"id": "cond", "name": "Cond", "optional": false,
			"conditional-path-template": l(map[string]any{"nosuchinput": "[OUTPUT_DIR]/a"}, map[string]any{"default": "[OUTPUT_DIR]/b"})})
	},
	"conditional-types": func(t *testing.T, d map[string]any) {
		push(d, "output-files", map[string]any{"id": "cond", "name": "Cond", "optional": false,
			"conditional-path-template": l(map[string]any{`workers == "a"`: "[OUTPUT_DIR]/a"}, map[string]any{"default": "[OUTPUT_DIR]/b"})})
	},
	"flag-has-flag": func(t *testing.T, d map[string]any) {
		delete(find(t, d, "inputs", "force"), "command-line-flag")
	},
	"flag-optional": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "force")["optional"] = false
	},
	"number-min-max": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "max_pixel_bytes")["maximum"] = 0.0
	},
	"choices-nonempty": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "percentiles")["value-choices"] = []any{}
	},
	"choices-default": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["value-choices"], in["default-value"] = l("0:100", "0.5:99.5"), "1:99"
	},
	"list-min-max": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["list"], in["min-list-entries"], in["max-list-entries"] = true, 3.0, 2.0
	},
	"list-min-negative": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["list"], in["min-list-entries"] = true, -1.0
	},
	"list-max-positive": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["list"], in["max-list-entries"] = true, -1.0
	},
	"requires-exist": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "quiet")["requires-inputs"] = l("nosuchinput")
	},
	"disables-exist": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "quiet")["disables-inputs"] = l("nosuchinput")
	},
	"requires-and-disables": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "quiet")
		in["requires-inputs"], in["disables-inputs"] = l("force"), l("force")
	},
	"disables-required": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "quiet")["disables-inputs"] = l("min")
	},
	"required-no-dependencies": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "min")["requires-inputs"] = l("force")
	},
	"value-options-need-choices": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "percentiles")["value-disables"] = map[string]any{"0:100": l()}
	},
	"value-requires-and-disables": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["value-choices"] = l("0:100")
		in["value-requires"] = map[string]any{"0:100": l("force")}
		in["value-disables"] = map[string]any{"0:100": l("force")}
	},
	"value-options-keys": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["value-choices"], in["value-disables"] = l("0:100", "1:99"), map[string]any{"0:100": l()}
	},
	"value-options-exist": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["value-choices"], in["value-disables"] = l("0:100"), map[string]any{"0:100": l("nosuchinput")}
	},
	"value-options-required": func(t *testing.T, d map[string]any) {
		in := find(t, d, "inputs", "percentiles")
		in["value-choices"], in["value-requires"] = l("0:100"), map[string]any{"0:100": l("min")}
	},
	"group-member-exists": func(t *testing.T, d map[string]any) {
		g := find(t, d, "groups", "source")
		g["members"] = append(g["members"].([]any), "nosuchinput")
	},
	"group-member-twice": func(t *testing.T, d map[string]any) {
		g := find(t, d, "groups", "source")
		g["members"] = append(g["members"].([]any), "source_range")
	},
	"mutex-required-member": func(t *testing.T, d map[string]any) {
		g := find(t, d, "groups", "source")
		g["members"] = append(g["members"].([]any), "min")
	},
	"mutex-members-require": func(t *testing.T, d map[string]any) {
		find(t, d, "inputs", "source_range")["requires-inputs"] = l("source_range_from")
	},
	"mutex-all-or-none-pair": func(t *testing.T, d map[string]any) {
		push(d, "groups", map[string]any{"id": "both", "name": "Both", "members": l("source_range", "source_range_from"), "all-or-none": true})
	},
	"one-is-required-member": func(t *testing.T, d map[string]any) {
		push(d, "groups", map[string]any{"id": "g", "name": "G", "members": l("min", "force"), "one-is-required": true})
	},
	"one-is-required-all-or-none": func(t *testing.T, d map[string]any) {
		push(d, "groups", map[string]any{"id": "g1", "name": "G1", "members": l("force", "quiet"), "one-is-required": true})
		push(d, "groups", map[string]any{"id": "g2", "name": "G2", "members": l("force", "quiet", "sync"), "all-or-none": true})
	},
	"all-or-none-combined": func(t *testing.T, d map[string]any) {
		push(d, "groups", map[string]any{"id": "g", "name": "G", "members": l("force", "quiet"), "all-or-none": true, "one-is-required": true})
	},
	"all-or-none-required-member": func(t *testing.T, d map[string]any) {
		push(d, "groups", map[string]any{"id": "g", "name": "G", "members": l("min", "force"), "all-or-none": true})
	},
	"test-output-id": func(t *testing.T, d map[string]any) {
		a := objects(d["tests"])[0]["assertions"].(map[string]any)
		a["output-files"] = l(map[string]any{"id": "nosuchoutput"})
	},
	"test-output-twice": func(t *testing.T, d map[string]any) {
		a := objects(d["tests"])[0]["assertions"].(map[string]any)
		a["output-files"] = l(map[string]any{"id": "normalized_image"}, map[string]any{"id": "normalized_image"})
	},
	"test-name-unique": func(t *testing.T, d map[string]any) {
		tests := objects(d["tests"])
		tests[1]["name"] = tests[0]["name"]
	},
	"container-index": func(t *testing.T, d map[string]any) {
		c := d["container-image"].(map[string]any)
		c["image"], c["index"] = "shub://dicom-remap/dicom-remap:0.1.0", "docker://"
	},
}

// alsoBroken lists the rules a case cannot help breaking with its own.
var alsoBroken = map[string][]string{
	"list-max-positive":   {"list-min-max"},           // min-list-entries ≥ 0 > max
	"value-options-exist": {"value-options-required"}, // bosh counts a missing input as required
}

// schemaCatches lists the rules the official schema also enforces, so
// that no case can break them alone (bosh keeps them all the same).
var schemaCatches = map[string]bool{
	"value-options-need-choices": true, // the schema's "dependencies"
}

// TestBoshRules requires the shipped descriptor to pass every rule and each
// mutation to break exactly the rule it targets (and still pass the schema,
// so that the rule, not the schema, is what catches it). With
// DICOM_REMAP_BOSH naming a real `bosh` (boutiques 0.5.33; CI cannot fetch
// it), it also requires bosh to agree on every case.
func TestBoshRules(t *testing.T) {
	var schema []byte
	if data, err := os.ReadFile(filepath.Join(sharedDir, "boutiques/descriptor.schema.json")); err == nil {
		schema = data
	}
	bosh := os.Getenv("DICOM_REMAP_BOSH")
	check := func(t *testing.T, d map[string]any, schemaToo bool) ([]Problem, bool) {
		data, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if schema != nil {
			v, err := ValidateBoutiquesSchema(data, schema)
			if err != nil {
				t.Fatal(err)
			}
			if len(v) > 0 != schemaToo {
				t.Fatalf("schema problems %v; want them: %v", v, schemaToo)
			}
		}
		p, err := CheckBosh(data)
		if err != nil {
			t.Fatal(err)
		}
		if bosh == "" {
			return p, false
		}
		file := filepath.Join(t.TempDir(), "d.json")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bosh, "validate", file).CombinedOutput()
		t.Logf("bosh validate: %s", out)
		return p, err == nil
	}
	t.Run("shipped", func(t *testing.T) {
		p, boshOK := check(t, shipped(t), false)
		for _, x := range p {
			t.Error(x)
		}
		if bosh != "" && !boshOK {
			t.Error("bosh validate refused the shipped descriptor")
		}
	})
	runRuleCases(t, BoshRules, boshCases, alsoBroken, func(t *testing.T, rule string, d map[string]any) []Problem {
		p, boshOK := check(t, d, schemaCatches[rule])
		if bosh != "" && boshOK {
			t.Error("the real bosh accepted it: the port disagrees with bosh")
		}
		return p
	})
}

// runRuleCases runs, for each rule, its case on a fresh copy of the shipped
// descriptor, and requires check to report that rule and no other (beyond
// also[rule]); every rule needs a case and every case a rule.
func runRuleCases(t *testing.T, rules []string, cases map[string]func(*testing.T, map[string]any), also map[string][]string,
	check func(t *testing.T, rule string, d map[string]any) []Problem) {
	for _, rule := range rules {
		t.Run(rule, func(t *testing.T) {
			mutate, ok := cases[rule]
			if !ok {
				t.Fatal("no case breaks this rule")
			}
			d := shipped(t)
			mutate(t, d)
			p := check(t, rule, d)
			var got []string
			for _, x := range p {
				got = append(got, x.Rule)
			}
			if !slices.Contains(got, rule) {
				t.Errorf("not caught; problems: %v", p)
			}
			for _, r := range got {
				if r != rule && !slices.Contains(also[rule], r) {
					t.Errorf("also broke %s: the case should break one rule", r)
				}
			}
		})
	}
	for rule := range cases {
		if !slices.Contains(rules, rule) {
			t.Errorf("case %s is not a rule", rule)
		}
	}
}

// FuzzCheckBosh drives arbitrary descriptors through the rules (the
// conditional expressions are a small parser of their own): no panic, the
// same problems on a second run, and every problem names a rule.
func FuzzCheckBosh(f *testing.F) {
	data, err := os.ReadFile("../boutiques/dicom-remap.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"command-line":"x [A]","inputs":[{"id":"a","type":"Number","value-key":"[A]","minimum":2,"maximum":1}],
		"output-files":[{"id":"o","optional":false,"conditional-path-template":[{"(a == 1) and (a < 2)":"p"},{"default":"q"}]}]}`))
	f.Add([]byte(`{"output-files":[{"id":"o","conditional-path-template":[{"((a>=\"x\") or":"p"}]}],"inputs":[{"id":"a","type":"String"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p1, err1 := CheckBosh(data)
		p2, err2 := CheckBosh(data)
		if (err1 == nil) != (err2 == nil) || !slices.Equal(p1, p2) {
			t.Fatalf("two runs differ: %v %v / %v %v", p1, err1, p2, err2)
		}
		for _, p := range p1 {
			if !slices.Contains(BoshRules, p.Rule) {
				t.Fatalf("problem of no rule: %v", p)
			}
		}
	})
}

func FuzzConditionalExpression(f *testing.F) {
	for _, s := range []string{"a == 1", "(Number > 3) and (String != x)", "((", "))a<b(", "Flag and True", "x <= (y)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, exp string) {
		words := conditionalFormat(exp)
		// Surrounding blanks change nothing, as bosh strips them.
		if validCondition(words) != validCondition("  "+words+"\t") {
			t.Fatalf("%q: blanks around it change the verdict", exp)
		}
	})
}
