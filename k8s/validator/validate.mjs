// Validates rendered Kubernetes manifests offline (k8s/validate.sh renders them with `kubectl kustomize`).
//
//   node validate.mjs --source LABEL FILE [--source LABEL FILE ...]
//
// Every object of every FILE (multi-document YAML) goes through four checks:
//   schema      the Kubernetes OpenAPI schema, compiled by kubernetes-models (types, required fields, formats)
//   fields      unknown fields, at any depth: each object is emitted as a typed TypeScript literal
//               (`const o: IDeployment = {...}`) and every property is looked up in the TypeScript type the
//               literal has at that place; the TypeScript type check of the same literals (strict) reports the
//               rest, unless the schema check already named that field
//   rules       what the API server checks beyond the schema: names, label syntax, a workload's selector against
//               its template, volume mounts and probe ports against what the pod declares, Service target ports
//               and PodDisruptionBudget selectors against the workloads of the same rendering
//   orleans     what this project's silos need (only for Deployments labelled app.kubernetes.io/name=orleansvectors,
//               app.kubernetes.io/component=silo): no CPU limit, a termination grace longer than the silo's 30 s
//               shutdown, maxUnavailable 0, GLIBC_TUNABLES / OMP_WAIT_POLICY, and the orleans/* pod labels equal
//               to the cluster and service ids in the silo's ConfigMap
// It prints one line per object ("ok" or "FAIL", then one indented line per problem: field path, reason, check)
// and a final summary line; it exits 1 when anything failed, 2 on bad usage.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import YAML from "yaml";

const validatorDir = path.dirname(fileURLToPath(import.meta.url));
const modelsDir = path.join(validatorDir, "node_modules", "kubernetes-models");

// ---------------------------------------------------------------------------------------------------------------
// Paths: a field path is an array of keys (strings) and indexes (numbers), printed as
// spec.template.spec.containers[0].resources.limits["nvidia.com/gpu"]

function formatPath(segments) {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === "" ? "(object)" : out;
}

function pointerToSegments(pointer) {
  if (!pointer) return [];
  return pointer
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((p) => (/^(0|[1-9][0-9]*)$/.test(p) ? Number(p) : p));
}

// ---------------------------------------------------------------------------------------------------------------
// Models: apiVersion + kind -> the kubernetes-models module that has the schema and the type

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[A-Za-z0-9]+$/.test(kind)) return null;
  const parts = apiVersion.split("/");
  if (parts.length > 2 || parts.some((p) => !/^[a-z0-9.-]+$/.test(p))) return null;
  const rel = parts.length === 1 ? `${parts[0]}/${kind}` : `${parts[0]}/${parts[1]}/${kind}`;
  const js = path.join(modelsDir, `${rel}.js`);
  const dts = path.join(modelsDir, `${rel}.d.ts`);
  if (!existsSync(js) || !existsSync(dts)) return null;
  if (!new RegExp(`export interface I${kind}\\b`).test(readFileSync(dts, "utf8"))) return null;
  return { specifier: `kubernetes-models/${rel}`, file: js, typeName: `I${kind}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the renderings

function usage(message) {
  process.stderr.write(`${message}\nusage: node validate.mjs {--source LABEL FILE | --failed LABEL REASON}...\n`);
  process.exit(2);
}

// --source LABEL FILE: a rendering to validate; --failed LABEL REASON: one that could not be rendered (counted and
// reported with the rest)
function parseArgs(argv) {
  const sources = [];
  for (let i = 0; i < argv.length; i += 3) {
    if (!["--source", "--failed"].includes(argv[i]) || i + 2 >= argv.length) usage(`unexpected argument: ${argv[i]}`);
    sources.push(argv[i] === "--source" ? { label: argv[i + 1], file: argv[i + 2] } : { label: argv[i + 1], failed: argv[i + 2] });
  }
  if (sources.length === 0) usage("nothing to validate");
  return sources;
}

// The API server treats a null field as an absent one; kustomize leaves a few (creationTimestamp: null).
function dropNulls(value) {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = dropNulls(v);
    return out;
  }
  return value;
}

// The API server's base64 decoder skips line breaks, and kustomize folds long Secret values over several lines.
function unfoldBase64(value) {
  const fields = value?.kind === "Secret" ? ["data"] : value?.kind === "ConfigMap" ? ["binaryData"] : [];
  for (const f of fields) {
    const map = value[f];
    if (!map || typeof map !== "object") continue;
    for (const [k, v] of Object.entries(map)) if (typeof v === "string") map[k] = v.replace(/[\r\n]/g, "");
  }
  return value;
}

function readObjects(source) {
  const objects = [];
  const failures = [];
  let text;
  try {
    text = readFileSync(source.file, "utf8");
  } catch (e) {
    failures.push(`cannot read ${source.file}: ${e.message}`);
    return { objects, failures };
  }
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      failures.push(`document ${index + 1}: ${doc.errors.map((e) => e.message.split("\n")[0].replace(/:$/, "")).join("; ")}`);
      return;
    }
    const value = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    objects.push({ source, index, value: unfoldBase64(dropNulls(value)), problems: [] });
  });
  return { objects, failures };
}

function describe(obj) {
  const v = obj.value;
  if (!v || typeof v !== "object" || Array.isArray(v)) return `document ${obj.index + 1} (not an object)`;
  const ns = v.metadata?.namespace ? `${v.metadata.namespace}/` : "";
  const name = v.metadata?.name ?? "(no name)";
  return `${v.apiVersion ?? "(no apiVersion)"} ${v.kind ?? "(no kind)"} ${ns}${name}`;
}

function problem(obj, segments, message, check) {
  obj.problems.push({ segments, path: formatPath(segments), message, check });
}

// ---------------------------------------------------------------------------------------------------------------
// Check 1: the schema

// One message for the errors at one path. A oneOf (int-or-string, quantity) fails with an error per branch: say
// which alternatives there were instead.
function schemaMessage(errors) {
  if (errors.some((e) => e.keyword === "oneOf" || e.keyword === "anyOf")) {
    const alternatives = [
      ...errors.filter((e) => e.keyword === "type").map((e) => `a ${e.params.type}`),
      ...errors.filter((e) => e.keyword === "format").map((e) => `a string of format "${e.params.format}"`),
    ];
    if (alternatives.length > 0) return `must be ${[...new Set(alternatives)].join(", or ")}`;
  }
  const messages = errors.map((e) =>
    e.keyword === "required" ? "required field is missing"
    : e.keyword === "enum" ? `must be one of ${e.params.allowedValues.map((x) => JSON.stringify(x)).join(", ")}`
    : e.message ?? e.keyword);
  return [...new Set(messages)].join("; ");
}

async function checkSchema(obj) {
  const v = obj.value;
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    problem(obj, [], "a Kubernetes object must be a mapping", "schema");
    return;
  }
  obj.model = modelFor(v.apiVersion, v.kind);
  if (!obj.model) {
    const which = ["apiVersion", "kind"].filter((k) => typeof v[k] !== "string");
    if (which.length > 0) problem(obj, [which[0]], "missing or not a string", "schema");
    else problem(obj, ["kind"], `no schema for apiVersion ${v.apiVersion}, kind ${v.kind} (unknown or misspelled)`, "schema");
    return;
  }
  const module = await import(pathToFileURL(obj.model.file).href);
  const Model = module[v.kind];
  try {
    new Model(v).validate();
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    const byPath = new Map();
    for (const err of e.errors) {
      const segments = pointerToSegments(err.instancePath);
      if (err.keyword === "required") segments.push(err.params.missingProperty);
      const key = formatPath(segments);
      const entry = byPath.get(key) ?? { segments, errors: [] };
      entry.errors.push(err);
      byPath.set(key, entry);
    }
    for (const { segments, errors } of byPath.values()) problem(obj, segments, schemaMessage(errors), "schema");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Check 2: unknown fields and types, through TypeScript

function editDistance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function checkFields(objects) {
  const typed = objects.filter((o) => o.model);
  if (typed.length === 0) return;

  // the program: one import per model, one typed literal per object
  const aliases = new Map();
  const lines = [];
  for (const o of typed) {
    if (!aliases.has(o.model.specifier)) {
      const alias = `T${aliases.size}`;
      aliases.set(o.model.specifier, alias);
      lines.push(`import type { ${o.model.typeName} as ${alias} } from ${JSON.stringify(o.model.specifier)};`);
    }
  }
  typed.forEach((o, i) => {
    lines.push(`export const o${i}: ${aliases.get(o.model.specifier)} = ${JSON.stringify(o.value, null, 1)};`);
  });
  const text = lines.join("\n") + "\n";
  const fileName = path.join(validatorDir, "__rendered__.ts");
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    lib: ["lib.es5.d.ts"], // the models need no more; the default (ES2022 + DOM) triples the time
  };
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (f, lang, onError, create) =>
    path.resolve(f) === fileName ? ts.createSourceFile(f, text, lang, true) : getSourceFile.call(host, f, lang, onError, create);
  host.fileExists = (f) => path.resolve(f) === fileName || fileExists.call(host, f);
  host.readFile = (f) => (path.resolve(f) === fileName ? text : readFile.call(host, f));
  const program = ts.createProgram([fileName], options, host);
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(fileName);

  // walk each literal: record the span of every field (to place diagnostics) and check every property name
  const spans = []; // { start, end, obj, segments }
  const walk = (node, obj, segments) => {
    if (ts.isObjectLiteralExpression(node)) {
      const type = checker.getContextualType(node);
      for (const prop of node.properties) {
        if (!ts.isPropertyAssignment(prop)) continue;
        const name = ts.isStringLiteral(prop.name) ? prop.name.text : prop.name.getText(sf);
        const fieldSegments = [...segments, name];
        spans.push({ start: prop.getStart(sf), end: prop.getEnd(), obj, segments: fieldSegments });
        const verdict = type ? lookUp(type, name) : { known: true };
        if (!verdict.known) {
          const near = verdict.candidates
            .map((c) => ({ c, d: c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(c, name) }))
            .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 4)))
            .sort((a, b) => a.d - b.d)[0];
          problem(obj, fieldSegments, `unknown field${near ? ` (did you mean "${near.c}"?)` : ""}`, "fields");
          continue; // nothing below an unknown field has a type to check against
        }
        walk(prop.initializer, obj, fieldSegments);
      }
    } else if (ts.isArrayLiteralExpression(node)) {
      node.elements.forEach((el, i) => {
        spans.push({ start: el.getStart(sf), end: el.getEnd(), obj, segments: [...segments, i] });
        walk(el, obj, [...segments, i]);
      });
    }
  };
  const lookUp = (type, name) => {
    const t = checker.getNonNullableType(type);
    const parts = t.isUnion() ? t.types : [t];
    const candidates = [];
    let objectParts = 0;
    for (const p of parts) {
      if (p.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { known: true };
      if (!(p.flags & ts.TypeFlags.Object)) continue;
      objectParts++;
      if (checker.getPropertyOfType(p, name)) return { known: true };
      if (checker.getIndexInfosOfType(p).length > 0) return { known: true };
      candidates.push(...checker.getPropertiesOfType(p).map((s) => s.getName()));
    }
    // a mapping where the type wants a string or a number is a type error, reported as such
    return objectParts === 0 ? { known: true } : { known: false, candidates };
  };

  let i = 0;
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    const decl = stmt.declarationList.declarations[0];
    const obj = typed[i++];
    spans.push({ start: decl.getStart(sf), end: decl.getEnd(), obj, segments: [] });
    walk(decl.initializer, obj, []);
  }

  // the type check: everything but excess properties (reported above, with paths), placed at the innermost field
  const excessProperty = new Set([2353, 2561]);
  const diagnostics = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
  for (const d of diagnostics) {
    if (excessProperty.has(d.code)) continue;
    if (d.file !== sf || d.start === undefined) {
      throw new Error(`TypeScript: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
    }
    let best = null;
    for (const s of spans) if (s.start <= d.start && d.start < s.end && (!best || s.end - s.start < best.end - best.start)) best = s;
    if (!best) throw new Error(`TypeScript: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
    const at = formatPath(best.segments);
    const known = best.obj.problems.some((p) => at === p.path || at.startsWith(`${p.path}.`) || at.startsWith(`${p.path}[`));
    if (known) continue;
    const chain = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n").map((s) => s.trim());
    const message = chain.length > 2 ? `${chain[0]} … ${chain[chain.length - 1]}` : chain.join(" ");
    problem(best.obj, best.segments, message.length > 300 ? `${message.slice(0, 297)}...` : message, "types");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Check 3: what the API server checks beyond the schema

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ianaSvcName = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const workloadKinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

function checkLabelMap(obj, segments, labels) {
  if (!labels || typeof labels !== "object") return;
  for (const [key, value] of Object.entries(labels)) {
    const at = [...segments, key];
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : null;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (prefix !== null && (prefix.length > 253 || !dns1123Subdomain.test(prefix)))
      problem(obj, at, "label key prefix must be a DNS subdomain", "rules");
    if (name.length > 63 || !qualifiedName.test(name))
      problem(obj, at, "label key name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric", "rules");
    if (typeof value === "string" && value !== "" && (value.length > 63 || !qualifiedName.test(value)))
      problem(obj, at, `label value "${value}" must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`, "rules");
  }
}

function podTemplateOf(v) {
  if (workloadKinds.has(v.kind)) return v.spec?.template;
  return undefined;
}

function checkPodSpec(obj, segments, spec) {
  if (!spec || typeof spec !== "object") return;
  const volumes = new Set((spec.volumes ?? []).map((x) => x?.name));
  const portNames = new Map();
  const containers = [
    ...(spec.initContainers ?? []).map((c, i) => ({ c, at: [...segments, "initContainers", i] })),
    ...(spec.containers ?? []).map((c, i) => ({ c, at: [...segments, "containers", i] })),
  ];
  const containerNames = new Set();
  for (const { c, at } of containers) {
    if (!c || typeof c !== "object") continue;
    if (containerNames.has(c.name)) problem(obj, [...at, "name"], `duplicate container name "${c.name}"`, "rules");
    containerNames.add(c.name);
    const own = new Set();
    (c.ports ?? []).forEach((p, i) => {
      if (p?.name === undefined) return;
      const pat = [...at, "ports", i, "name"];
      if (typeof p.name !== "string" || p.name.length > 15 || !ianaSvcName.test(p.name) || !/[a-z]/.test(p.name) || p.name.includes("--"))
        problem(obj, pat, "port name must be 1-15 lowercase alphanumerics or '-', with a letter", "rules");
      if (portNames.has(p.name)) problem(obj, pat, `duplicate port name "${p.name}" in the pod`, "rules");
      portNames.set(p.name, p.containerPort);
      own.add(p.name);
    });
    (c.volumeMounts ?? []).forEach((m, i) => {
      if (m && !volumes.has(m.name)) problem(obj, [...at, "volumeMounts", i, "name"], `no volume named "${m.name}" in the pod`, "rules");
    });
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const p = c[probe];
      for (const handler of ["httpGet", "tcpSocket", "grpc"]) {
        const port = p?.[handler]?.port;
        if (typeof port === "string" && !own.has(port))
          problem(obj, [...at, probe, handler, "port"], `no port named "${port}" in this container`, "rules");
      }
    }
  }
}

function selects(selector, labels) {
  if (!selector || typeof selector !== "object" || !labels) return false;
  const match = selector.matchLabels ?? {};
  if (Object.entries(match).some(([k, v]) => labels[k] !== v)) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    if (e.operator === "In" && !(has && e.values?.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values?.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return Object.keys(match).length > 0 || (selector.matchExpressions ?? []).length > 0;
}

function checkRules(objects) {
  const workloads = objects.filter((o) => o.model && podTemplateOf(o.value));
  for (const obj of objects) {
    if (!obj.model) continue;
    const v = obj.value;
    const name = v.metadata?.name;
    if (typeof name !== "string" || name === "") {
      if (!v.metadata?.generateName) problem(obj, ["metadata", "name"], "required field is missing", "rules");
    } else if (["Service"].includes(v.kind)) {
      if (name.length > 63 || !dns1035Label.test(name)) problem(obj, ["metadata", "name"], "must be a DNS-1035 label (a-z, 0-9, '-', starting with a letter, at most 63)", "rules");
    } else if (["Namespace"].includes(v.kind)) {
      if (name.length > 63 || !dns1123Label.test(name)) problem(obj, ["metadata", "name"], "must be a DNS-1123 label (a-z, 0-9, '-', at most 63)", "rules");
    } else if (!v.apiVersion.startsWith("rbac.authorization.k8s.io/")) {
      if (name.length > 253 || !dns1123Subdomain.test(name)) problem(obj, ["metadata", "name"], "must be a DNS-1123 subdomain (a-z, 0-9, '-', '.', at most 253)", "rules");
    }
    checkLabelMap(obj, ["metadata", "labels"], v.metadata?.labels);

    const template = podTemplateOf(v);
    if (template) {
      checkLabelMap(obj, ["spec", "template", "metadata", "labels"], template.metadata?.labels);
      checkLabelMap(obj, ["spec", "selector", "matchLabels"], v.spec?.selector?.matchLabels);
      if (v.kind !== "Job" && v.spec?.selector && !selects(v.spec.selector, template.metadata?.labels ?? {}))
        problem(obj, ["spec", "selector"], "does not match the template's labels (spec.template.metadata.labels)", "rules");
      checkPodSpec(obj, ["spec", "template", "spec"], template.spec);
    }
    if (v.kind === "Pod") checkPodSpec(obj, ["spec"], v.spec);

    if (v.kind === "Service" && v.spec?.selector && Object.keys(v.spec.selector).length > 0) {
      const sameNs = workloads.filter((w) => w.source === obj.source && w.value.metadata?.namespace === v.metadata?.namespace);
      const selected = sameNs.filter((w) => selects({ matchLabels: v.spec.selector }, podTemplateOf(w.value).metadata?.labels ?? {}));
      (v.spec.ports ?? []).forEach((p, i) => {
        if (typeof p?.targetPort !== "string") return;
        for (const w of selected) {
          const ports = (podTemplateOf(w.value).spec?.containers ?? []).flatMap((c) => c?.ports ?? []);
          if (!ports.some((cp) => cp?.name === p.targetPort))
            problem(obj, ["spec", "ports", i, "targetPort"], `the pods of ${w.value.kind} ${w.value.metadata?.name} have no port named "${p.targetPort}"`, "rules");
        }
      });
    }
    if (v.kind === "PodDisruptionBudget" && v.spec?.selector) {
      const sameSource = workloads.filter((w) => w.source === obj.source);
      if (sameSource.length > 0 && !sameSource.some((w) => w.value.metadata?.namespace === v.metadata?.namespace && selects(v.spec.selector, podTemplateOf(w.value).metadata?.labels ?? {})))
        problem(obj, ["spec", "selector"], "selects the pods of no workload in this rendering", "rules");
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Check 4: what the OrleansVectors silos need

function checkSilos(objects) {
  for (const obj of objects) {
    const v = obj.value;
    const labels = v?.metadata?.labels ?? {};
    if (!obj.model || v.kind !== "Deployment" || labels["app.kubernetes.io/name"] !== "orleansvectors" || labels["app.kubernetes.io/component"] !== "silo") continue;
    const spec = v.spec?.template?.spec ?? {};
    const podLabels = v.spec?.template?.metadata?.labels ?? {};
    if (!(Number(spec.terminationGracePeriodSeconds ?? 30) > 30))
      problem(obj, ["spec", "template", "spec", "terminationGracePeriodSeconds"], "must be longer than the silo's 30 s graceful shutdown", "orleans");
    if (v.spec?.strategy?.type !== "RollingUpdate" || v.spec?.strategy?.rollingUpdate?.maxUnavailable !== 0)
      problem(obj, ["spec", "strategy", "rollingUpdate", "maxUnavailable"], "must be 0 (RollingUpdate): a silo leaves only once its replacement is Ready", "orleans");
    (spec.containers ?? []).forEach((c, i) => {
      const at = ["spec", "template", "spec", "containers", i];
      if (c?.resources?.limits?.cpu !== undefined) problem(obj, [...at, "resources", "limits", "cpu"], "no CPU limit on silos (CFS throttling); request CPU instead", "orleans");
      if (c?.resources?.requests?.cpu === undefined) problem(obj, [...at, "resources", "requests", "cpu"], "silos must request CPU", "orleans");
      if (c?.name !== "silo") return;
      const env = new Map((c.env ?? []).map((e) => [e?.name, e]));
      if (!String(env.get("GLIBC_TUNABLES")?.value ?? "").includes("glibc.malloc.hugetlb=1")) problem(obj, [...at, "env"], "GLIBC_TUNABLES must hold glibc.malloc.hugetlb=1", "orleans");
      if (env.get("OMP_WAIT_POLICY")?.value !== "PASSIVE") problem(obj, [...at, "env"], "OMP_WAIT_POLICY must be PASSIVE", "orleans");
      for (const name of ["POD_NAME", "POD_NAMESPACE", "POD_IP"])
        if (!env.get(name)?.valueFrom?.fieldRef) problem(obj, [...at, "env"], `${name} must come from the downward API (Orleans' Kubernetes hosting reads it)`, "orleans");
      if (env.get("Silo__Name")?.valueFrom?.fieldRef?.fieldPath !== "metadata.name")
        problem(obj, [...at, "env"], "Silo__Name must be the pod name (metadata.name): Orleans matches silos to pods by name", "orleans");
      // the cluster and service ids, from the ConfigMap the silo reads, against the pod labels Orleans selects by
      const cmNames = (c.envFrom ?? []).map((e) => e?.configMapRef?.name).filter(Boolean);
      const cms = objects.filter((o) => o.source === obj.source && o.value?.kind === "ConfigMap" && cmNames.includes(o.value.metadata?.name) && o.value.metadata?.namespace === v.metadata?.namespace);
      const setting = (key) => cms.map((o) => o.value.data?.[key]).filter((x) => x !== undefined).pop();
      for (const [key, label] of [["Silo__ClusterId", "orleans/clusterId"], ["Silo__ServiceId", "orleans/serviceId"]]) {
        const want = setting(key);
        if (want === undefined) problem(obj, [...at, "envFrom"], `no ConfigMap in this rendering sets ${key}`, "orleans");
        else if (podLabels[label] !== want)
          problem(obj, ["spec", "template", "metadata", "labels", label], `must equal ${key} in the silo's ConfigMap ("${want}"); found ${podLabels[label] === undefined ? "none" : `"${podLabels[label]}"`}`, "orleans");
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const sources = parseArgs(process.argv.slice(2));
  const all = [];
  let failedDocuments = 0;
  const sourceFailures = new Map();
  for (const source of sources) {
    if (source.failed !== undefined) {
      sourceFailures.set(source, [source.failed]);
      failedDocuments++;
      continue;
    }
    const { objects, failures } = readObjects(source);
    all.push(...objects);
    sourceFailures.set(source, failures);
    failedDocuments += failures.length;
  }
  for (const obj of all) await checkSchema(obj);
  checkFields(all);
  checkRules(all);
  checkSilos(all);

  let invalid = 0;
  for (const source of sources) {
    for (const f of sourceFailures.get(source)) console.log(`FAIL  ${source.label}  ${f}`);
    for (const obj of all.filter((o) => o.source === source)) {
      if (obj.problems.length === 0) {
        console.log(`ok    ${source.label}  ${describe(obj)}`);
        continue;
      }
      invalid++;
      console.log(`FAIL  ${source.label}  ${describe(obj)}`);
      for (const p of obj.problems) console.log(`        ${p.path}: ${p.message} [${p.check}]`);
    }
  }
  const valid = all.length - invalid;
  const bad = invalid + failedDocuments;
  console.log(`validated ${sources.length} rendering(s), ${all.length} object(s): ${valid} valid, ${bad} invalid`);
  process.exit(bad > 0 ? 1 : 0);
}

main().catch((e) => {
  process.stderr.write(`validator error: ${e.stack ?? e}\n`);
  process.exit(3);
});
