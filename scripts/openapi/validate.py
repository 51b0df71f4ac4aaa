#!/usr/bin/env python3
"""Validates docs/openapi.yaml (or the file given) against the OpenAPI 3.1 specification, checks that its examples
fit their schemas and, with --responses, that responses a client really got are described by it.

Uses openapi-spec-validator (PyPI). When it is not importable, it is installed once into a virtual environment
(CLERK_OPENAPI_VENV, by default ~/.cache/clerk/openapi-venv) and this script runs again from there, so the
system's Python is left alone.

    scripts/openapi/validate.py [--responses RESPONSES.json] [FILE]

RESPONSES.json is a list of {"method", "path", "status", "content_type", "body"} (the body as text, or null);
the HTTP tests write it. Each response must have a status and media type its operation lists, and a JSON body must
fit the schema, with no field the schema does not list. Requests that match no operation (OPTIONS, routes that do
not exist on purpose) are left out.

Exit status: 0 valid, 1 problems (each printed with where it is), 2 the validator cannot be installed.
"""

import argparse
import json
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.environ.get("CLERK_OPENAPI_VENV") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "clerk", "openapi-venv")
PACKAGE = "openapi-spec-validator>=0.7,<1"
REEXEC_MARK = "CLERK_OPENAPI_VALIDATE_REEXEC"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
BASE = "urn:clerk:openapi"


# MARK: Installing the validator

def venv_python():
    return os.path.join(VENV, "Scripts" if os.name == "nt" else "bin", "python")


def ensure_validator():
    """Imports openapi_spec_validator, installing it into the virtual environment and re-running when needed."""
    try:
        import openapi_spec_validator  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get(REEXEC_MARK):
        sys.exit(f"validate.py: openapi-spec-validator is still missing in {VENV}")
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    python = venv_python()
    # Two test runs may get here at once: one installs, the other waits for it.
    with open(VENV + ".lock", "w") as lock:
        try:
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:
            pass
        ready = os.path.exists(python) and subprocess.run(
            [python, "-c", "import openapi_spec_validator"], capture_output=True).returncode == 0
        if not ready:
            if not os.path.exists(python):
                print(f"validate.py: creating {VENV} for openapi-spec-validator", file=sys.stderr)
                venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
            print(f"validate.py: installing {PACKAGE} from PyPI", file=sys.stderr)
            install = subprocess.run(
                [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PACKAGE],
                stdout=sys.stderr)
            if install.returncode != 0:
                print("validate.py: cannot install openapi-spec-validator", file=sys.stderr)
                sys.exit(2)
    environment = dict(os.environ, **{REEXEC_MARK: "1"})
    result = subprocess.run([python, os.path.abspath(__file__), *sys.argv[1:]], env=environment)
    sys.exit(result.returncode)


# MARK: Helpers

def pointer(parts):
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def location(error):
    path = "/".join(str(part) for part in getattr(error, "absolute_path", []) or [])
    return f"at /{path}" if path else "at the top level"


def describe(failure):
    """One line about an exception that stopped the validator (its text may hold the whole document)."""
    reference = getattr(failure, "ref", None) or getattr(failure, "pointer", None)
    if reference:
        return f"cannot resolve $ref '{reference}'"
    text = str(failure).splitlines()[0] if str(failure) else ""
    return f"{type(failure).__name__}: {text[:300]}"


def closed(node):
    """A copy of a document in which objects with listed properties allow no others (a response with a field the
    document does not describe is then caught)."""
    if isinstance(node, list):
        return [closed(value) for value in node]
    if not isinstance(node, dict):
        return node
    copy = {key: closed(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        copy["unevaluatedProperties"] = False
    return copy


class Schemas:
    """Checks values against schemas of the document, named by where they are in it."""

    def __init__(self, spec):
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.registry = Registry().with_resource(BASE, Resource(contents=spec, specification=DRAFT202012))

    def problems(self, value, schema_parts):
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator({"$ref": BASE + pointer(schema_parts)}, registry=self.registry)
        return [
            ("/" + "/".join(str(part) for part in error.absolute_path) if error.absolute_path else "", error.message)
            for error in validator.iter_errors(value)
        ]


# MARK: Checks

def check_document(spec):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    if not str(spec.get("openapi", "")).startswith("3.1"):
        return [f"'openapi' is {spec.get('openapi')!r}, expected 3.1.x"]
    errors = []
    try:
        for error in OpenAPIV31SpecValidator(spec).iter_errors():
            errors.append(f"{location(error)}: {error.message}")
    except Exception as failure:  # an unresolvable $ref, for one, stops the validator
        errors.append(describe(failure))
    return errors


def check_examples(spec, schemas):
    """Every example of a media type, and every example of a component schema, must fit its schema."""
    problems = []

    def check(value, schema_parts, where):
        for at, message in schemas.problems(value, schema_parts):
            problems.append(f"the example at {where}{at} does not fit its schema: {message}")

    def walk(node, parts):
        if isinstance(node, dict):
            if len(parts) >= 2 and parts[-2] == "content" and "schema" in node:
                if "example" in node:
                    check(node["example"], parts + ["schema"], pointer(parts + ["example"]))
                for name, example in (node.get("examples") or {}).items():
                    if isinstance(example, dict) and "value" in example:
                        check(example["value"], parts + ["schema"], pointer(parts + ["examples", name, "value"]))
            for key, value in node.items():
                walk(value, parts + [key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, parts + [index])

    walk(spec.get("paths") or {}, ["paths"])
    walk((spec.get("components") or {}).get("responses") or {}, ["components", "responses"])
    for name, schema in ((spec.get("components") or {}).get("schemas") or {}).items():
        if isinstance(schema, dict) and "example" in schema:
            check(schema["example"], ["components", "schemas", name], pointer(["components", "schemas", name]))
    return problems


def find_operation(spec, method, path):
    """The path template and operation a request is for, or (None, None)."""
    for template, item in (spec.get("paths") or {}).items():
        wanted, actual = template.split("/"), path.split("/")
        if len(wanted) != len(actual) or method not in (item or {}):
            continue
        if all(w == a or (w.startswith("{") and w.endswith("}") and a) for w, a in zip(wanted, actual)):
            return template, item[method]
    return None, None


def check_responses(spec, schemas, records):
    """Every response a test got must be described by its operation."""
    problems = []
    checked = 0
    for record in records:
        method = record["method"].lower()
        template, operation = find_operation(spec, method, record["path"])
        if operation is None:
            continue
        checked += 1
        status = str(record["status"])
        where = f"{record['method']} {record['path']} answered {status}"
        responses = operation.get("responses") or {}
        key = next((k for k in (status, status[0] + "XX", "default") if k in responses), None)
        if key is None:
            problems.append(f"{where}, a status {record['method']} {template} does not list")
            continue
        parts = ["paths", template, method, "responses", key]
        response = responses[key]
        if "$ref" in response:
            parts = response["$ref"].lstrip("#/").split("/")
            response = spec
            for part in parts:
                response = response[part.replace("~1", "/").replace("~0", "~")]
        content = response.get("content") or {}
        body = record.get("body")
        if not content:
            if body:
                problems.append(f"{where} with a body, but the document describes none")
            continue
        media = (record.get("content_type") or "").split(";")[0].strip()
        if media not in content:
            problems.append(f"{where} with {media or 'no content type'}; the document has {', '.join(content)}")
            continue
        if media.endswith("json") and body is not None and "schema" in content[media]:
            try:
                value = json.loads(body)
            except ValueError as error:
                problems.append(f"{where} with a body that is not JSON: {error}")
                continue
            for at, message in schemas.problems(value, parts + ["content", media, "schema"]):
                problems.append(f"{where}: the body at {at or '/'} does not fit the schema: {message}")
    return problems, checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", help="a JSON file of responses to check against the document")
    parser.add_argument("file", nargs="?", default=os.path.join(ROOT, "docs", "openapi.yaml"))
    arguments = parser.parse_args()
    ensure_validator()
    from openapi_spec_validator.readers import read_from_filename

    spec, _ = read_from_filename(arguments.file)
    problems = check_document(spec)
    schemas = Schemas(spec) if not problems else None
    if schemas:
        problems += check_examples(spec, schemas)
    checked = None
    if schemas and arguments.responses:
        with open(arguments.responses, encoding="utf-8") as file:
            found, checked = check_responses(spec, Schemas(closed(spec)), json.load(file))
        problems += found
    for problem in problems:
        print(f"{arguments.file}: error: {problem}")
    if problems:
        print(f"{arguments.file}: {len(problems)} error{'s' if len(problems) != 1 else ''}")
        return 1
    paths = spec.get("paths") or {}
    operations = sum(1 for item in paths.values() for method in item if method in METHODS)
    summary = f"valid OpenAPI {spec['openapi']} ({len(paths)} paths, {operations} operations; the examples fit"
    summary += " their schemas" + (f"; {checked} responses fit it" if checked is not None else "") + ")"
    print(f"{arguments.file}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
