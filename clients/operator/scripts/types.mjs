// TypeScript types of the services' HTTP APIs, generated from their OpenAPI documents (committed in
// openapi/, kept current by the Python test tests/test_client_contracts.py): never written by hand.
import { readdirSync, writeFileSync, mkdirSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";

mkdirSync("src/api", { recursive: true });
for (const file of readdirSync("openapi").filter((f) => f.endsWith(".json"))) {
  const service = file.replace(/\.json$/, "");
  const ast = await openapiTS(new URL(`../openapi/${file}`, import.meta.url));
  writeFileSync(`src/api/${service}.d.ts`, `// generated from openapi/${file}: do not edit\n${astToString(ast)}`);
}
