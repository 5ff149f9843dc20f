import type { OpenApiDocument, OperationDoc } from './document.ts';
import { escapeHtml } from '../platform/html.ts';

/** The reference page's only style sheet, served from this module (the CSP allows 'self' only). */
export const REFERENCE_CSS = `
:root { color-scheme: light dark; --muted: #5b6470; --line: #d0d7de; --accent: #0b5cad; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem 1.5rem 4rem; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: Canvas; padding: .5rem; }
nav ul { columns: 2 22rem; padding-left: 1.2rem; }
section.op { border-top: 1px solid var(--line); padding-top: .5rem; margin-top: 1.5rem; }
.method { display: inline-block; min-width: 4.2rem; font: bold 0.85rem ui-monospace, monospace; text-transform: uppercase; }
code, pre { font-family: ui-monospace, monospace; font-size: .9rem; }
pre { background: color-mix(in srgb, CanvasText 6%, Canvas); padding: .75rem; overflow-x: auto; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
.muted { color: var(--muted); }
@media (prefers-color-scheme: dark) { :root { --muted: #9aa4ae; --line: #3b434b; --accent: #6cb6ff; } }
`;

/** Backticked words in the catalog's prose become <code>; everything else is escaped text. */
const prose = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

// A long example scrolls sideways; tabindex lets a keyboard reach it to scroll (WCAG 2.1.1).
const json = (value: unknown) => `<pre tabindex="0">${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
}

const componentName = (ref: string) => ref.replace('#/components/schemas/', '');

function typeText(schema: Schema): string {
  if (schema.$ref) return componentName(schema.$ref);
  const type = [schema.type ?? 'any'].flat().join(' | ');
  return schema.items ? `${type} of ${typeText(schema.items)}` : type;
}

function constraints(schema: Schema): string {
  const parts: string[] = [];
  if (schema.enum) parts.push(`one of ${schema.enum.map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(', ')}`);
  if (schema.pattern) parts.push(`pattern <code>${escapeHtml(schema.pattern)}</code>`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) parts.push(`length ${schema.minLength ?? 0} to ${schema.maxLength ?? '∞'}`);
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`from ${schema.minimum ?? '−∞'} to ${schema.maximum ?? '∞'}`);
  if (schema.default !== undefined) parts.push(`default <code>${escapeHtml(JSON.stringify(schema.default))}</code>`);
  if (schema.description) parts.push(prose(schema.description));
  return parts.join('; ');
}

/** An object schema as a table of its fields (a $ref is followed once), the raw JSON folded below. */
function schemaHtml(raw: unknown, document: OpenApiDocument): string {
  const ref = (raw as Schema).$ref;
  const schema = (ref ? document.components.schemas[componentName(ref)] : raw) as Schema;
  const title = ref ? `<p>Schema <a href="#schema-${escapeHtml(componentName(ref))}">${escapeHtml(componentName(ref))}</a></p>` : '';
  if (!schema.properties) return `${title}${json(schema)}`;
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties)
    .map(([name, field]) => `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(typeText(field))}</td><td>${required.has(name) ? 'yes' : 'no'}</td><td>${constraints(field)}</td></tr>`)
    .join('');
  return `${title}<table><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Rules</th></tr></thead><tbody>${rows}</tbody></table><details><summary>JSON Schema</summary>${json(schema)}</details>`;
}

function parameters(operation: OperationDoc): string {
  if (!operation.parameters?.length) return '';
  const rows = operation.parameters
    .map((p) => `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${escapeHtml(typeText((p.schema ?? {}) as Schema))}${constraints({ ...((p.schema ?? {}) as Schema), ...(p.description ? { description: p.description } : {}) }).replace(/^(?=.)/, '; ')}</td></tr>`)
    .join('');
  return `<h4>Parameters</h4><table><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Required</th><th scope="col">Type and rules</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function responses(operation: OperationDoc, document: OpenApiDocument): string {
  const parts = Object.entries(operation.responses).map(([status, response]) => {
    const codes = response['x-error-codes'];
    if (codes) {
      const items = codes.map((c) => `<li><code>${escapeHtml(c.code)}</code> <span class="muted">${escapeHtml(c.title)}</span></li>`).join('');
      return `<h5>${escapeHtml(status)} <span class="muted">problem+json</span></h5><ul>${items}</ul>`;
    }
    const schema = Object.values(response.content ?? {})[0]?.schema;
    return `<h5>${escapeHtml(status)} <span class="muted">${prose(response.description)}</span></h5>${schema ? schemaHtml(schema, document) : ''}`;
  });
  return `<h4>Responses</h4>${parts.join('')}`;
}

function operationHtml(method: string, path: string, operation: OperationDoc, document: OpenApiDocument): string {
  const body = Object.values(operation.requestBody?.content ?? {})[0]?.schema;
  const security = operation.security.map((s) => Object.keys(s).join(' + ') || 'anonymous').join(' or ') || 'none';
  return `<section class="op" id="${escapeHtml(operation.operationId)}" aria-labelledby="${escapeHtml(operation.operationId)}-h">
<h3 id="${escapeHtml(operation.operationId)}-h"><span class="method">${escapeHtml(method)}</span> <code>${escapeHtml(path)}</code></h3>
${operation.summary ? `<p><strong>${prose(operation.summary)}</strong></p>` : ''}${operation.description ? `<p>${prose(operation.description)}</p>` : ''}
<p>Authentication: <code>${escapeHtml(security)}</code></p>
${parameters(operation)}${body ? `<h4>Request body</h4>${schemaHtml(body, document)}` : ''}${responses(operation, document)}
</section>`;
}

/** The whole reference as one server-rendered page: readable without JavaScript. */
export function renderReference(document: OpenApiDocument): string {
  const byTag = new Map<string, Array<[string, string, OperationDoc]>>(document.tags.map((t) => [t.name, []]));
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) byTag.get(operation.tags[0]!)?.push([method, path, operation]);
  }
  const toc = document.tags
    .map((t) => `<li><a href="#tag-${escapeHtml(t.name.replace(/[^A-Za-z0-9]+/g, '-'))}">${escapeHtml(t.name)}</a> <span class="muted">(${byTag.get(t.name)?.length ?? 0})</span></li>`)
    .join('');
  const sections = document.tags
    .map((t) => {
      const operations = byTag.get(t.name) ?? [];
      return `<section aria-labelledby="tag-${escapeHtml(t.name.replace(/[^A-Za-z0-9]+/g, '-'))}">
<h2 id="tag-${escapeHtml(t.name.replace(/[^A-Za-z0-9]+/g, '-'))}">${escapeHtml(t.name)}</h2><p>${prose(t.description)}</p>
${operations.map(([method, path, operation]) => operationHtml(method, path, operation, document)).join('\n')}
</section>`;
    })
    .join('\n');
  const schemes = Object.entries(document.components.securitySchemes)
    .map(([name, scheme]) => `<dt><code>${escapeHtml(name)}</code></dt><dd>${prose((scheme as { description?: string }).description ?? '')}</dd>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(document.info.title)} reference</title>
<link rel="stylesheet" href="/docs/api/reference.css">
</head>
<body>
<a class="skip" href="#main">Skip to the reference</a>
<header><h1>${escapeHtml(document.info.title)} <span class="muted">v${escapeHtml(document.info.version)}</span></h1>
<p>${prose(document.info.description)}</p>
<p>Server: <code>${escapeHtml(document.servers[0]?.url ?? '')}</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p></header>
<nav aria-label="Sections"><h2>Contents</h2><ul>${toc}</ul></nav>
<main id="main">
<section aria-labelledby="auth-h"><h2 id="auth-h">Authentication schemes</h2><dl>${schemes}</dl></section>
<section aria-labelledby="problem-h"><h2 id="problem-h">Errors</h2><p>Every error is <code>application/problem+json</code> (schema <a href="#schema-Problem">Problem</a>) with a stable <code>code</code>; each operation lists its codes by status.</p></section>
${sections}
<section aria-labelledby="schemas-h"><h2 id="schemas-h">Schemas</h2>
${Object.entries(document.components.schemas).map(([name, schema]) => `<h3 id="schema-${escapeHtml(name)}">${escapeHtml(name)}</h3>${schemaHtml(schema, document)}`).join('\n')}
</section>
</main>
</body>
</html>`;
}
