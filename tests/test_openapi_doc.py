"""The OpenAPI document as an integrator uses it: valid (openapi-spec-validator), every field
described, every vocabulary value with its Chinese meaning (kb/vocabulary.yaml), an example for
every operation; a TypeScript client generated from it (openapi-typescript, from the npm
registry) that type-checks with tsc against code using the nullable fields; openapi-generator's
typescript-fetch client compiling with tsc, and its Java models typed as a Java team expects."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate

from engine.kb.vocabulary import vocabulary
from engine.service.app import app, openapi_document

ROOT = Path(__file__).resolve().parent.parent
NODE_TOOLS = ROOT / ".cache" / "node-tools"
NPM_PACKAGES = ("openapi-typescript@7.13.0", "typescript@5.9.3")


@pytest.fixture(scope="module")
def doc() -> dict:
    app.openapi_schema = None
    return json.loads(json.dumps(openapi_document()))


def test_document_validates(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def _undescribed(schema, where: str, components: dict, out: list[str]) -> None:
    """Every property (at any depth) without a description (a bare $ref counts when its target has one)."""
    if isinstance(schema, list):
        for i, s in enumerate(schema):
            _undescribed(s, f"{where}[{i}]", components, out)
        return
    if not isinstance(schema, dict):
        return
    for name, prop in (schema.get("properties") or {}).items():
        target = prop
        if set(prop) == {"$ref"}:
            target = components[prop["$ref"].rsplit("/", 1)[1]]
        if not target.get("description"):
            out.append(f"{where}.{name}")
        _undescribed(prop, f"{where}.{name}", components, out)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
        if key in schema:
            _undescribed(schema[key], f"{where}.{key}", components, out)


def test_every_field_has_a_description(doc):
    components = doc["components"]["schemas"]
    missing: list[str] = []
    for name, schema in components.items():
        if not schema.get("description"):
            missing.append(name)
        _undescribed(schema, name, components, missing)
    assert not missing, missing


def _enums(node, where=""):
    if isinstance(node, dict):
        if "enum" in node:
            yield where, node
        for k, v in node.items():
            yield from _enums(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _enums(v, f"{where}[{i}]")


def test_every_enum_value_carries_its_chinese_meaning(doc):
    v = vocabulary()
    for where, schema in _enums(doc):
        assert len(schema.get("x-enum-descriptions", [])) == len(schema["enum"]), where
    components = doc["components"]["schemas"]
    obligation = components["DecisionResponse_obligation"]["properties"]
    for field, key in (("action", "actions"), ("actor", "actors"), ("status", "statuses")):
        assert obligation[field]["enum"] == v.ids(key)
        assert obligation[field]["x-enum-descriptions"] == list(v.names(key).values())
    assert obligation["addressee"]["enum"][:-1] == v.ids("addressees") and obligation["addressee"]["enum"][-1] is None
    events = components["DecisionRequest_event"]["properties"]["type"]
    assert dict(zip(events["enum"], events["x-enum-descriptions"], strict=True)) == v.names("event_types")
    assert "`first_clinical_use` 首例临床应用" in events["description"]


def test_every_operation_has_a_summary_described_parameters_and_an_example(doc):
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), (method, path)
            for p in op.get("parameters", []):
                assert p.get("description") or p.get("schema", {}).get("description"), (path, p["name"])
            examples = [p for p in op.get("parameters", []) if "example" in p or "examples" in p]
            body = op.get("requestBody", {}).get("content", {})
            examples += [m for m in body.values() if "example" in m]
            assert examples or not (op.get("parameters") or body), (method, path)
    # a request and a response example for every operation: the parameters' or the body's, and the 200 answer's
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {})
            assert all("example" in m for m in body.values()), (method, path)
            answers = op["responses"]["200"].get("content", {})
            assert any("example" in m for m in answers.values()), (method, path)
    decision = doc["paths"]["/v1/decisions"]["post"]
    assert decision["requestBody"]["content"]["application/json"]["example"]["institution"]["jurisdiction"] == "hunan"
    assert "application/yaml" in decision["requestBody"]["content"]
    example = decision["responses"]["200"]["content"]["application/json"]["example"]
    assert example["technology"]["class"] == "restricted"


# --------------------------------------------------------------------------- TypeScript client

USE_TS = """\
import type { components, paths } from "./api";
type S = components["schemas"];

export const request: S["DecisionRequest"] = {
  as_of: "2025-03-10",
  institution: { jurisdiction: "hunan", level: null, category: "hospital" },
  technology: { name: "PCI", prohibited_grounds: ["obsolete"] },
  events: [{ type: "first_clinical_use", date: "2025-03-03" }],
};

export function firstDue(r: S["DecisionResponse"]): string {
  const o: S["DecisionResponse_obligation"] | undefined = r.obligations[0];
  if (!o) return "none";
  const due: string | null = o.due;                        // nullable: a string or null, never undefined
  const to: string = o.addressee === null ? "—" : o.addressee;
  const when: string = o.deadline === null ? "—" : o.deadline.text;
  const quote: string | undefined = o.citations[0].quote;  // absent with ?quotes=once|none
  const provisions = r.provisions ?? {};
  return [due ?? "", to, when, quote ?? provisions[o.citations[0].document + ":" + o.citations[0].eid]?.quote].join(" ");
}

export function cells(c: S["Comparison"]): number {
  let n = 0;
  for (const row of c.rows ?? []) for (const cell of Object.values(row.cells ?? {})) if (cell !== null) n += cell.materials?.length ?? 0;
  return n;
}

export function pages(t: S["Technologies"]): number | null { return t.next_offset ?? null; }

type Body = paths["/v1/decisions"]["post"]["requestBody"];
export const body: NonNullable<Body>["content"]["application/json"] = request;
"""
WRONG_TS = """\
import type { components } from "./api";
type S = components["schemas"];
// @ts-expect-error: level 5 does not exist
export const a: S["DecisionRequest"] = { institution: { jurisdiction: "hunan", level: 5 } };
// @ts-expect-error: not a jurisdiction
export const b: S["DecisionRequest"] = { institution: { jurisdiction: "guangdong" } };
// @ts-expect-error: due may be null
export const c = (o: S["DecisionResponse_obligation"]): string => o.due;
// @ts-expect-error: not an action
export const d: S["DecisionResponse_obligation"]["action"] = "approve";
// @ts-expect-error: a technology is an object (name or code), not a number
export const e: S["DecisionRequest"] = { institution: { jurisdiction: "hunan" }, technology: 42 };
// @ts-expect-error: a Chinese alias is accepted by the service but is not a member of the enum
export const f: S["DecisionRequest"] = { institution: { jurisdiction: "湖南省" } };
// @ts-expect-error: a deadline kind is one of the enum's
export const g: S["DecisionResponse_deadline"]["kind"] = "fortnightly";
"""


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """openapi-typescript and tsc from the npm registry, installed once into .cache/node-tools."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not on PATH (this check uses the machine's Node.js and npm)")
    bins = NODE_TOOLS / "node_modules" / ".bin"
    if not ((bins / "openapi-typescript").exists() and (bins / "tsc").exists()):
        NODE_TOOLS.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(NODE_TOOLS), *NPM_PACKAGES],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if r.returncode != 0:
            pytest.fail(f"npm install {' '.join(NPM_PACKAGES)} failed: {r.stderr[-2000:]}")
    return bins


def test_generated_typescript_client_type_checks(doc, node_tools, tmp_path):
    (tmp_path / "openapi.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = subprocess.run(
        [str(node_tools / "openapi-typescript"), str(tmp_path / "openapi.json"), "-o", str(tmp_path / "api.d.ts")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    (tmp_path / "use.ts").write_text(USE_TS, encoding="utf-8")
    (tmp_path / "wrong.ts").write_text(WRONG_TS, encoding="utf-8")
    (tmp_path / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "ES2020",
                    "module": "ES2020",
                    "moduleResolution": "node",
                },
                "files": ["use.ts", "wrong.ts"],
            }
        ),
        encoding="utf-8",
    )
    r = subprocess.run([str(node_tools / "tsc"), "-p", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


# --------------------------------------------------------------------------- openapi-generator (Java, TypeScript)


@pytest.fixture(scope="module")
def generator() -> list[str]:
    """The openapi-generator command: the jar the PyPI package openapi-generator-cli ships, run by the machine's Java."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not on PATH (openapi-generator needs a Java runtime)")
    import openapi_generator_cli

    jar = Path(openapi_generator_cli.__file__).parent / "openapi-generator.jar"
    assert jar.exists(), jar
    return [java, "-jar", str(jar)]


def _generate(generator, doc, tmp_path, name: str, *options: str) -> Path:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / name
    r = subprocess.run(
        [*generator, "generate", "-i", str(spec), "-o", str(out), *options], capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def test_openapi_generator_typescript_client_compiles(generator, node_tools, doc, tmp_path):
    out = _generate(generator, doc, tmp_path, "ts", "-g", "typescript-fetch")
    obligation = (out / "models" / "DecisionResponseObligation.ts").read_text(encoding="utf-8")
    assert "due: Date | null;" in obligation
    assert "addressee: DecisionResponseObligationAddresseeEnum | null;" in obligation
    assert "deadline: DecisionResponseDeadline | null;" in obligation
    (out / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "noEmit": True,
                    "target": "ES2020",
                    "module": "ES2020",
                    "moduleResolution": "node",
                    "lib": ["ES2020", "DOM"],
                },
                "include": ["**/*.ts"],
            }
        ),
        encoding="utf-8",
    )
    r = subprocess.run([str(node_tools / "tsc"), "-p", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_openapi_generator_java_models_are_typed(generator, doc, tmp_path):
    # compiling needs Jackson from Maven, which this machine cannot reach: the declarations are checked instead
    out = _generate(
        generator, doc, tmp_path, "java", "-g", "java", "--library", "native", "--global-property", "models"
    )
    models = {p.name: p.read_text(encoding="utf-8") for p in out.rglob("*.java")}
    obligation = models["DecisionResponseObligation.java"]
    for field in (
        "private AddresseeEnum addressee;",
        "private LocalDate due;",
        "private DecisionResponseDeadline deadline;",
    ):
        assert f"@javax.annotation.Nullable\n  {field}" in obligation, field
    assert "private ActionEnum action;" in obligation and 'FILE(String.valueOf("file"))' in obligation
    institution = models["DecisionRequestInstitution.java"]
    assert "JsonNullable<LevelEnum> level" in institution and "grade_3(Integer.valueOf(3))" in institution  # typed
    jurisdictions = institution[institution.index("public enum JurisdictionEnum") :]
    jurisdictions = jurisdictions[: jurisdictions.index("\n  }\n")]
    assert 'HUNAN(String.valueOf("hunan"))' in jurisdictions and '湖南省")' not in jurisdictions  # aliases: no members
    assert (
        "@javax.annotation.Nullable\n  private DecisionResponseTechnology technology;"
        in models["DecisionResponse.java"]
    )
    assert "Map<String, DecisionResponseProvisionsValue> provisions" in models["DecisionResponse.java"]
    assert not [n for n, text in models.items() if "UNKNOWN_BASE_TYPE" in text]
    assert "private KindEnum kind;" in models["DecisionResponseDeadline.java"]  # deadline.kind: an enum
    assert "private DecisionRequestTechnology technology;" in models["DecisionRequest.java"]
    assert "ModelNew" not in "".join(models.values()) and " _new;" not in "".join(models.values())


# --------------------------------------------------------------------------- openapi-generator (Python)

USE_PY = """\
from __future__ import annotations

import datetime as dt
import sys

from medtech_api.models.decision_request import DecisionRequest
from medtech_api.models.decision_request_institution import DecisionRequestInstitution
from medtech_api.models.decision_request_technology import DecisionRequestTechnology
from medtech_api.models.decision_response import DecisionResponse
from medtech_api.models.error_response import ErrorResponse


def build() -> DecisionRequest:
    return DecisionRequest(
        institution=DecisionRequestInstitution(jurisdiction="hunan", level=3),
        technology=DecisionRequestTechnology(name="PCI"),
        as_of=dt.date(2025, 3, 10),
    )


def dues(answer: DecisionResponse) -> list[dt.date | None]:
    return [o.due for o in answer.obligations]


def problems(body: str) -> list[str]:
    errors = ErrorResponse.from_json(body)
    return [] if errors is None else [f"{e.path}: {e.message}" for e in errors.errors]


if __name__ == "__main__":
    answer = DecisionResponse.from_json(sys.stdin.read())
    assert answer is not None
    print(answer.decision_id, len(dues(answer)), problems('{"errors": [{"path": "as_of", "message": "bad"}]}'))
"""


def test_generated_python_client_types_code_under_mypy_strict(generator, doc, tmp_path):
    """openapi-generator's python client: code using its models passes `mypy --strict` (the generator's own
    plumbing, outside the schemas' reach, is not checked: --follow-imports=silent), and it reads a real answer."""
    import os
    import sys

    from engine import decide
    from engine.jsonout import dumps_text

    out = _generate(generator, doc, tmp_path, "py", "-g", "python", "--additional-properties=packageName=medtech_api")
    (tmp_path / "use.py").write_text(USE_PY, encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(out), "PYTHONPATH": str(out)}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--no-incremental",
            str(tmp_path / "use.py"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    answer = decide(yaml.safe_load((ROOT / "examples" / "request.yaml").read_text(encoding="utf-8")))
    r = subprocess.run(
        [sys.executable, str(tmp_path / "use.py")],
        input=dumps_text(answer),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith(answer["decision_id"]) and "as_of: bad" in r.stdout


# --------------------------------------------------------------------------- an old spec's clients, a newer answer

RUN_TS = """\
import { readFileSync } from "fs";
import { DecisionResponseFromJSON } from "./models/index";
const answer = DecisionResponseFromJSON(JSON.parse(readFileSync(process.argv[2], "utf-8")));
const action: string = answer.obligations[0].action;   // a value the old spec did not list
console.log(JSON.stringify({ action, id: answer.decisionId }));
"""


def _old_spec(doc: dict) -> tuple[dict, str]:
    """The document as it was before the last action value was added, and that value."""
    old = json.loads(json.dumps(doc))
    action = old["components"]["schemas"]["DecisionResponse_obligation"]["properties"]["action"]
    added = action["enum"].pop()
    action["x-enum-descriptions"].pop()
    return old, added


def _newer_answer(added: str) -> dict:
    from engine import decide

    answer = decide(yaml.safe_load((ROOT / "examples" / "request.yaml").read_text(encoding="utf-8")))
    answer["obligations"][0]["action"] = added
    return answer


def test_old_spec_typescript_client_tolerates_an_added_enum_value(generator, node_tools, doc, tmp_path):
    """docs/api-compatibility.md: typescript-fetch generated from last month's spec reads an answer whose `action`
    it does not list, as it is (no exception)."""
    old, added = _old_spec(doc)
    out = _generate(
        generator,
        old,
        tmp_path,
        "ts-old",
        "-g",
        "typescript-fetch",
        "--additional-properties=enumUnknownDefaultCase=true",
    )
    assert f"'{added}'" not in (out / "models" / "DecisionResponseObligation.ts").read_text(encoding="utf-8")
    (out / "run.ts").write_text(RUN_TS, encoding="utf-8")
    (out / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "target": "ES2020",
                    "module": "commonjs",
                    "moduleResolution": "node",
                    "lib": ["ES2020", "DOM"],
                    "outDir": "js",
                    "types": [],
                    "skipLibCheck": True,
                },
                "include": ["run.ts", "models/*.ts", "runtime.ts"],
            }
        ),
        encoding="utf-8",
    )
    (out / "node.d.ts").write_text(
        'declare module "fs" { export function readFileSync(p: string, e: string): string; }\n'
        "declare const process: { argv: string[] };\n",
        encoding="utf-8",
    )
    config = json.loads((out / "tsconfig.json").read_text(encoding="utf-8"))
    config["include"].append("node.d.ts")
    (out / "tsconfig.json").write_text(json.dumps(config), encoding="utf-8")
    r = subprocess.run([str(node_tools / "tsc"), "-p", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    answer = _newer_answer(added)
    (tmp_path / "answer.json").write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
    node = shutil.which("node")
    assert node is not None
    r = subprocess.run(
        [node, str(out / "js" / "run.js"), str(tmp_path / "answer.json")], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout) == {"action": added, "id": answer["decision_id"]}


def test_old_spec_java_client_maps_an_added_enum_value_to_unknown(generator, doc, tmp_path):
    """With enumUnknownDefaultCase=true (docs/api-compatibility.md) the Java models map a value they do not know to
    UNKNOWN_DEFAULT_OPEN_API instead of throwing (the declarations are checked: Jackson is not reachable here)."""
    old, added = _old_spec(doc)
    out = _generate(
        generator,
        old,
        tmp_path,
        "java-old",
        "-g",
        "java",
        "--library",
        "native",
        "--global-property",
        "models",
        "--additional-properties=enumUnknownDefaultCase=true",
    )
    obligation = next(out.rglob("DecisionResponseObligation.java")).read_text(encoding="utf-8")
    assert f'"{added}"' not in obligation and "UNKNOWN_DEFAULT_OPEN_API" in obligation
    from_value = obligation[obligation.index("public static ActionEnum fromValue") :]
    from_value = from_value[: from_value.index("\n    }\n")]
    assert "return UNKNOWN_DEFAULT_OPEN_API;" in from_value and "throw" not in from_value
