#!/usr/bin/env node
// Reads kustomize output (a YAML stream) on stdin, validates every object against the Kubernetes
// OpenAPI schemas shipped in the npm package kubernetes-models (offline), and prints
// {"objects": [...], "errors": [...]} as JSON on stdout so a test can inspect what was rendered.
// Exit code: 0 when every object is valid, 1 otherwise.
// With --yaml-to-json it only converts one YAML document (e.g. a Prometheus rules file) to JSON.
"use strict";
const YAML = require("yaml");

function modelFor(apiVersion, kind) {
  // "v1" -> kubernetes-models/v1/Kind ; "apps/v1" -> kubernetes-models/apps/v1/Kind
  try {
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind];
  } catch {
    return undefined;
  }
}

function main(input) {
  const objects = [];
  const errors = [];
  for (const doc of YAML.parseAllDocuments(input)) {
    if (doc.errors.length > 0) {
      errors.push({ object: "(yaml)", message: doc.errors.map((e) => e.message).join("; ") });
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    if (obj.kind === "Secret" && obj.data) {
      // kustomize wraps long base64 values over several lines; the API server's decoder skips the
      // line breaks, the schema's "byte" format does not.
      for (const key of Object.keys(obj.data)) obj.data[key] = String(obj.data[key]).replace(/\s+/g, "");
    }
    objects.push(obj);
    const name = `${obj.apiVersion}/${obj.kind}/${obj.metadata && obj.metadata.name}`;
    const Model = modelFor(obj.apiVersion, obj.kind);
    if (!Model) {
      errors.push({ object: name, message: `no Kubernetes schema for ${obj.apiVersion} ${obj.kind}` });
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      const details = e.errors ? e.errors.map((x) => `${x.instancePath || x.dataPath || ""} ${x.message}`).join("; ") : "";
      errors.push({ object: name, message: `${e.message}${details ? `: ${details}` : ""}` });
    }
  }
  process.stdout.write(JSON.stringify({ objects, errors }));
  return errors.length === 0 ? 0 : 1;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  if (process.argv.includes("--yaml-to-json")) {
    process.stdout.write(JSON.stringify(YAML.parse(input)));
    return;
  }
  process.exitCode = main(input);
});
