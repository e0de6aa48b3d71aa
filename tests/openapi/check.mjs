// Checks the OpenAPI description of the agent's ETSI GS QKD 014 service
// against the OpenAPI 3.1 schema, then every exchange an integration test
// recorded against it: each (method, path, status) must be an operation and
// a response the description lists, and each body must match its schema.
// Every operation must have been exercised with a 200.
//
//   node tests/openapi/check.mjs SPEC.json EXCHANGES.jsonl
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [specPath, exchangesPath] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, "utf8"));
let failures = 0;
const fail = (what) => { console.log(`not ok - ${what}`); failures++; };
const pass = (what) => console.log(`ok - ${what}`);

const valid = await new Validator().validate(spec);
valid.valid ? pass("the description is valid OpenAPI " + spec.openapi)
            : fail("the description is not valid OpenAPI: " + JSON.stringify(valid.errors));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "spec", components: spec.components });

// Templates like /api/v1/keys/{slave_SAE_ID}/status as regular expressions.
const routes = Object.entries(spec.paths).map(([template, item]) => ({
  template, item,
  pattern: new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
}));
const exercised = new Set();
const lines = readFileSync(exchangesPath, "utf8").split("\n").filter(Boolean);
for (const line of lines) {
  const x = JSON.parse(line);
  const path = x.path.split("?")[0];
  const route = routes.find((r) => r.pattern.test(path));
  const op = route && route.item[x.method.toLowerCase()];
  const what = `${x.method} ${x.path} -> ${x.status}`;
  if (!op) { if (x.status !== 404 && x.status !== 405) fail(`${what}: not in the description`); continue; }
  const response = op.responses[String(x.status)];
  if (!response) { fail(`${what}: status not in the description`); continue; }
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) { fail(`${what}: no JSON schema for this answer`); continue; }
  const check = ajv.compile({ $ref: "spec" + schema.$ref });
  let body;
  try { body = JSON.parse(x.body); } catch { fail(`${what}: the body is not JSON`); continue; }
  if (!check(body)) { fail(`${what}: ${ajv.errorsText(check.errors)}`); continue; }
  if (x.status === 200) exercised.add(op.operationId);
}
pass(`${lines.length} recorded answers checked`);
for (const [, item] of Object.entries(spec.paths)) {
  for (const op of Object.values(item)) {
    exercised.has(op.operationId) ? pass(`${op.operationId} answered 200 and matched`)
                                  : fail(`${op.operationId} was never answered with a 200`);
  }
}
process.exit(failures === 0 ? 0 : 1);
