#!/usr/bin/python3
"""Builds a Galaxy job script from a tool wrapper, with real Cheetah.

    /usr/bin/python3 tests/galaxy/render.py WRAPPER.xml JOB.json > tool_script.sh

JOB.json gives the parameter values of one job:

    {"params": {"input": {"path": "/d/dataset_1.dat", "identifier": "x", "ext": "binary", "name": "x"},
                "series": [{"path": ..., "identifier": ...}, ...],
                "min": 0, "max": 100},
     "outputs": {"output": "/j/outputs/dataset_2.dat"},
     "version_file": "/j/outputs/COMMAND_VERSION"}

What Galaxy does, and this script does the same way (Galaxy's own modules
need dozens of Python packages that Debian does not have):
- the <command> text, leading space stripped, is compiled by Cheetah and
  filled with a search list of parameter wrappers: a data parameter renders
  as its file path and has .element_identifier, .ext and .name; a list
  collection iterates over such wrappers; an integer renders as
  str(int(value));
- every line of the result is stripped and the lines are joined with
  spaces;
- tool_script.sh is "#!/bin/sh", "set -e", the version command writing to
  COMMAND_VERSION, "; ", then the command. The job runs it in its working
  directory.
"""

import json
import sys
import xml.etree.ElementTree as ET

from Cheetah.Compiler import Compiler
from Cheetah.Template import Template


class DatasetWrapper:
    """Galaxy's DatasetFilenameWrapper: str() is the path."""

    def __init__(self, value):
        self.file_name = value["path"]
        self.ext = self.extension = value.get("ext", "data")
        self.name = value.get("name", "")
        # Galaxy falls back to the dataset's name when the dataset is not
        # an element of a collection.
        self.element_identifier = value.get("identifier") or self.name

    def __str__(self):
        return self.file_name

    def is_of_type(self, *exts):
        return self.ext in exts


class CollectionWrapper:
    """Galaxy's DatasetCollectionWrapper for a list: iterates elements."""

    def __init__(self, elements):
        self._elements = [DatasetWrapper(e) for e in elements]
        self.is_collection = True

    def __iter__(self):
        return iter(self._elements)

    def __len__(self):
        return len(self._elements)

    def keys(self):
        return [e.element_identifier for e in self._elements]

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._elements[key]
        for e in self._elements:
            if e.element_identifier == key:
                return e
        raise KeyError(key)


class IntegerWrapper:
    """Galaxy's InputValueWrapper around an integer parameter."""

    def __init__(self, value):
        self.value = int(value)

    def __str__(self):
        return str(int(self.value))

    def __int__(self):
        return self.value

    def __float__(self):
        return float(self.value)

    def __eq__(self, other):
        return self.value == int(other)

    def __lt__(self, other):
        return self.value < int(other)

    def __gt__(self, other):
        return self.value > int(other)

    def __hash__(self):
        return hash(self.value)


def param_dict(tool, job):
    elements = {p.get("name"): p for p in tool.find("inputs").iter("param")}
    types = {name: p.get("type") for name, p in elements.items()}
    params = {}
    values = dict(job["params"])
    # Parameters the job leaves out take their defaults, as Galaxy fills them.
    for name, p in elements.items():
        if name not in values and types[name] == "select":
            # The option marked selected, else the first.
            options = p.findall("option")
            chosen = [o for o in options if o.get("selected") == "true"] or options
            values[name] = chosen[0].get("value", "")
        elif name not in values and types[name] not in ("data", "data_collection"):
            values[name] = p.get("checked", "false") if types[name] == "boolean" else p.get("value", "")
        elif name not in values and types[name] == "data" and p.get("optional") == "true":
            params[name] = None  # an unset optional dataset is None in Cheetah
    for name, value in values.items():
        kind = types.get(name)
        if kind == "boolean":
            # Galaxy renders a boolean as its truevalue or falsevalue.
            p = elements[name]
            checked = str(value).lower() == "true"
            params[name] = p.get("truevalue", "true") if checked else p.get("falsevalue", "false")
        elif kind in ("text", "select"):
            params[name] = str(value)
        elif kind == "data":
            params[name] = DatasetWrapper(value)
        elif kind == "data_collection":
            params[name] = CollectionWrapper(value)
        elif kind == "integer":
            params[name] = IntegerWrapper(value)
        else:
            raise SystemExit(f"render.py: parameter {name}: type {kind} is not handled")
    for name, path in job.get("outputs", {}).items():
        params[name] = DatasetWrapper({"path": path, "ext": "data", "name": name})
    return params


def main():
    wrapper, job_file = sys.argv[1:3]
    tool = ET.parse(wrapper).getroot()
    with open(job_file) as f:
        job = json.load(f)
    command = tool.find("command").text.strip()
    # Galaxy's fill_template for python_template_version 3.
    template = Template.compile(source=command, compilerClass=Compiler)
    filled = str(template(searchList=[param_dict(tool, job)]))
    command_line = " ".join(line.strip() for line in filled.split("\n")).strip()
    script = "#!/bin/sh\nset -e\n"
    version = tool.find("version_command")
    if version is not None and job.get("version_file"):
        script += f"{version.text.strip()} > {job['version_file']} 2>&1; "
    sys.stdout.write(script + command_line + "\n")


if __name__ == "__main__":
    main()
